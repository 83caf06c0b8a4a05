-- Every object with the level at which its campaign holds the budget:
-- a campaign with a daily budget uses a campaign budget (CBO) and its ad sets hold none;
-- otherwise each ad set holds its own budget. Ads never hold a budget.
with objects as (

    select * from {{ ref('stg_fb_objects') }}

),

campaign_budgets as (

    select
        object_id                   as campaign_id,
        current_daily_budget_minor  as campaign_daily_budget_minor
    from objects
    where object_level = 'campaign'

)

select
    objects.*,
    case
        when campaign_budgets.campaign_daily_budget_minor is not null then 'campaign'
        else 'adset'
    end as budget_level,
    (
        (objects.object_level = 'campaign' and campaign_budgets.campaign_daily_budget_minor is not null)
        or (objects.object_level = 'adset' and campaign_budgets.campaign_daily_budget_minor is null)
    ) as holds_budget
from objects
left join campaign_budgets
    on objects.campaign_id = campaign_budgets.campaign_id
