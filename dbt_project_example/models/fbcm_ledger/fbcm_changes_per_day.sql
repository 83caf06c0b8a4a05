{{ config(enabled=var('fbcm_ledger_reports', false), materialized='view') }}

with applied as (
    select
        cast(recorded_at as date) as change_date,
        model,
        account_id,
        object_id,
        field,
        after_value,
        case when field in ('daily_budget', 'lifetime_budget') then cast(before_value as bigint) end as budget_before,
        case when field in ('daily_budget', 'lifetime_budget') then cast(after_value as bigint) end as budget_after
    from {{ source('fbcm', 'fbcm_ledger') }}
    where outcome = 'applied'
)

select
    change_date,
    model,
    account_id,
    count(*) as fields_changed,
    count(distinct object_id) as objects_changed,
    sum(case when field = 'status' and after_value = 'PAUSED' then 1 else 0 end) as paused,
    sum(case when field = 'status' and after_value = 'ACTIVE' then 1 else 0 end) as activated,
    sum(case when budget_after > budget_before then budget_after - budget_before else 0 end) as budget_raised_minor,
    sum(case when budget_after < budget_before then budget_before - budget_after else 0 end) as budget_lowered_minor
from applied
group by change_date, model, account_id
