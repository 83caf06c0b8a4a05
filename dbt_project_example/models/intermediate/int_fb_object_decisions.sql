-- The verdict on each object, judged on its own 7-day numbers:
--   not_enough_spend  7-day spend under the account's threshold: no opinion
--   pause             ROAS under {{ var('pause_below_roas') }}
--   scale             ROAS at or above {{ var('scale_at_roas') }}, active, and the object holds the budget
--   keep              everything else
-- scaled_daily_budget_minor is the budget after a {{ var('budget_increase_pct') }}% raise, in whole minor units.
{%- set min_spend = var('min_spend_to_judge') %}

with objects as (

    select * from {{ ref('int_fb_object_hierarchy') }}

),

roas as (

    select * from {{ ref('int_fb_roas_7d') }}

),

accounts as (

    select * from {{ ref('stg_fb_ad_accounts') }}

),

joined as (

    select
        objects.account_id,
        objects.object_level,
        objects.object_id,
        objects.campaign_id,
        objects.adset_id,
        objects.object_name,
        objects.current_status,
        objects.budget_level,
        objects.holds_budget,
        objects.current_daily_budget_minor,
        accounts.currency,
        accounts.currency_offset,
        accounts.min_daily_budget_minor,
        roas.spend_7d,
        roas.revenue_7d,
        roas.roas_7d,
        case objects.account_id
            {%- for account_id, amount in min_spend.items() %}
            when '{{ account_id }}' then {{ amount }}
            {%- endfor %}
        end as min_spend_to_judge
    from objects
    inner join accounts
        on objects.account_id = accounts.account_id
    left join roas
        on objects.object_id = roas.object_id

)

select
    *,
    case
        when min_spend_to_judge is null or spend_7d < min_spend_to_judge then 'not_enough_spend'
        when roas_7d < {{ var('pause_below_roas') }} then 'pause'
        when roas_7d >= {{ var('scale_at_roas') }} and current_status = 'ACTIVE' and holds_budget then 'scale'
        else 'keep'
    end as verdict,
    case
        when holds_budget then cast(
            round(current_daily_budget_minor * (100 + {{ var('budget_increase_pct') }}) / 100.0, 0)
            as bigint
        )
    end as scaled_daily_budget_minor
from joined
