select
    cast(date as date)  as report_date,
    account_id,
    object_id           as ad_id,
    spend,
    revenue
from {{ ref('fb_daily_performance') }}
