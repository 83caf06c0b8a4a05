-- Every desired budget must be at least the account's minimum daily budget, and no raise may
-- exceed the 25% that the fbcm guardrail allows. Compared in minor units.
with desired as (

    select d.object_id, cast(d.new_daily_budget * a.currency_offset as bigint) as budget_minor
    from {{ ref('fb_br_desired_state') }} as d
    cross join {{ ref('stg_fb_ad_accounts') }} as a
    where a.account_id = 'act_1001'
      and d.new_daily_budget is not null

    union all

    select cast(adset_id as varchar), daily_budget
    from {{ ref('fb_jp_adset_budgets') }}
    where daily_budget is not null

)

select desired.object_id, desired.budget_minor, o.current_daily_budget_minor, a.min_daily_budget_minor
from desired
inner join {{ ref('stg_fb_objects') }} as o
    on desired.object_id = o.object_id
inner join {{ ref('stg_fb_ad_accounts') }} as a
    on o.account_id = a.account_id
where desired.budget_minor < a.min_daily_budget_minor
   or desired.budget_minor > o.current_daily_budget_minor * 1.25
