with source as (

    select * from {{ ref('fb_objects') }}

)

select
    account_id,
    lower(level)                                     as object_level,
    object_id,
    case lower(level)
        when 'campaign' then object_id
        else parent_campaign_id
    end                                              as campaign_id,
    case lower(level)
        when 'adset' then object_id
        when 'ad' then parent_adset_id
    end                                              as adset_id,
    name                                             as object_name,
    upper(current_status)                            as current_status,
    current_daily_budget                             as current_daily_budget_minor
from source
