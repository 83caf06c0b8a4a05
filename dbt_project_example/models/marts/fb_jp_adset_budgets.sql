-- Daily budgets and statuses of the Japanese account's (act_2002) ad sets.
-- Budgets in minor units, i.e. whole yen for JPY (6000 = JPY 6,000).
--   * losers (ROAS < 1 on enough spend) are PAUSED, keeping their budget;
--   * winners get a 20% higher daily budget;
--   * the rest keeps status and budget; ad sets without enough spend are left alone.
select
    cast(object_id as bigint) as adset_id,
    cast(
        case verdict
            when 'pause' then 'PAUSED'
            when 'scale' then current_status
            when 'keep' then current_status
        end
        as varchar
    ) as desired_status,
    cast(
        case
            when not holds_budget then null
            when verdict = 'scale' then scaled_daily_budget_minor
            when verdict in ('keep', 'pause') then current_daily_budget_minor
        end
        as bigint
    ) as daily_budget,
    object_name as adset_name,
    spend_7d,
    roas_7d,
    verdict as action
from {{ ref('int_fb_object_decisions') }}
where account_id = 'act_2002'
  and object_level = 'adset'
