-- Meta rejects a budget on an ad, and an ad set budget under a campaign budget (CBO).
-- Fails with every desired-state row that sets a budget on a level that does not hold one.
select 'fb_br_desired_state' as model, d.object_id, h.object_level, h.budget_level
from {{ ref('fb_br_desired_state') }} as d
inner join {{ ref('int_fb_object_hierarchy') }} as h
    on d.object_id = h.object_id
where d.new_daily_budget is not null
  and not h.holds_budget

union all

select 'fb_jp_adset_budgets', cast(j.adset_id as varchar), h.object_level, h.budget_level
from {{ ref('fb_jp_adset_budgets') }} as j
inner join {{ ref('int_fb_object_hierarchy') }} as h
    on cast(j.adset_id as varchar) = h.object_id
where j.daily_budget is not null
  and not h.holds_budget
