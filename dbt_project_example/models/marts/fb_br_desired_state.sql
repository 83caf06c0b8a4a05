-- Desired state of the Brazilian account (act_1001), campaigns, ad sets and ads mixed.
-- Budgets are in BRL (60.00 = BRL 60.00); fbcm multiplies by the currency offset.
--   * losers (ROAS < 1 on enough spend) are PAUSED, unless their ad set or campaign is
--     paused by this model as well (then the row says nothing: the parent stops delivery);
--   * winners that hold a budget get a 20% higher daily budget;
--   * everything else that was judged keeps its current status and budget;
--   * objects without enough spend to judge are left alone (NULL status and budget).
with decisions as (

    select * from {{ ref('int_fb_object_decisions') }}
    where account_id = 'act_1001'

),

with_parents as (

    select
        decisions.*,
        case
            when paused_campaign.object_id is not null or paused_adset.object_id is not null
                then 'parent_paused'
            else decisions.verdict
        end as action
    from decisions
    left join decisions as paused_campaign
        on decisions.object_level <> 'campaign'
        and paused_campaign.object_id = decisions.campaign_id
        and paused_campaign.verdict = 'pause'
    left join decisions as paused_adset
        on decisions.object_level = 'ad'
        and paused_adset.object_id = decisions.adset_id
        and paused_adset.verdict = 'pause'

),

budgets as (

    -- the budget only on the level that holds it; minor units (cents) until the last step
    select
        with_parents.*,
        case
            when not holds_budget then null
            when action = 'scale' then scaled_daily_budget_minor
            when action in ('keep', 'pause') then current_daily_budget_minor
        end as new_daily_budget_minor
    from with_parents

)

select
    cast(object_id as varchar) as object_id,
    cast(
        case action
            when 'pause' then 'PAUSED'
            when 'scale' then current_status
            when 'keep' then current_status
        end
        as varchar
    ) as desired_status,
    {{ fb_minor_to_amount('new_daily_budget_minor', 'currency_offset') }} as new_daily_budget,
    object_level,
    object_name,
    spend_7d,
    roas_7d,
    action
from budgets
