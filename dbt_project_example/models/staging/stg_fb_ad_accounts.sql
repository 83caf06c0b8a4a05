select
    account_id,
    account_name,
    upper(currency)                          as currency,
    {{ fb_currency_offset('currency') }}     as currency_offset,
    timezone_name,
    min_daily_budget                         as min_daily_budget_minor
from {{ ref('fb_ad_accounts') }}
