-- Spend, revenue and ROAS of every campaign, ad set and ad over the last
-- {{ var('performance_window_days') }} days of data. The window ends on the latest date in the
-- performance data (not current_date), so the result does not change with the calendar.
with performance as (

    select * from {{ ref('stg_fb_daily_performance') }}

),

objects as (

    select * from {{ ref('stg_fb_objects') }}

),

bounds as (

    select
        cast({{ dbt.dateadd('day', 1 - var('performance_window_days') | int, 'max(report_date)') }} as date) as window_start,
        max(report_date) as window_end
    from performance

),

ads_in_window as (

    select
        performance.ad_id,
        sum(performance.spend)   as spend,
        sum(performance.revenue) as revenue
    from performance
    cross join bounds
    where performance.report_date between bounds.window_start and bounds.window_end
    group by performance.ad_id

),

ad_tree as (

    select
        objects.object_id as ad_id,
        objects.adset_id,
        objects.campaign_id,
        coalesce(ads_in_window.spend, 0)   as spend,
        coalesce(ads_in_window.revenue, 0) as revenue
    from objects
    left join ads_in_window
        on objects.object_id = ads_in_window.ad_id
    where objects.object_level = 'ad'

),

rolled_up as (

    select ad_id as object_id, spend, revenue from ad_tree
    union all
    select adset_id, sum(spend), sum(revenue) from ad_tree group by adset_id
    union all
    select campaign_id, sum(spend), sum(revenue) from ad_tree group by campaign_id

)

select
    objects.account_id,
    objects.object_level,
    objects.object_id,
    bounds.window_start,
    bounds.window_end,
    cast(coalesce(rolled_up.spend, 0) as decimal(18, 2))   as spend_7d,
    cast(coalesce(rolled_up.revenue, 0) as decimal(18, 2)) as revenue_7d,
    cast(
        case when rolled_up.spend > 0 then rolled_up.revenue / rolled_up.spend end
        as decimal(12, 4)
    )                                                        as roas_7d
from objects
cross join bounds
left join rolled_up
    on objects.object_id = rolled_up.object_id
