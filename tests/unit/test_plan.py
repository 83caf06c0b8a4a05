"""The planner with plain data: every safety rule and guardrail stops what it should and nothing else."""

from dataclasses import replace
from decimal import Decimal

from fbcm_dbt.config import Guardrails, parse_spec
from fbcm_dbt.desired import DesiredObject, DesiredState
from fbcm_dbt.plan import Action, plan_model
from fbcm_dbt.state import AccountInfo, LiveObject, LiveState

ACCOUNT = AccountInfo("act_1", "BRL", min_daily_budget=500)
OPEN = {"max_changed_fraction": None, "max_paused_fraction": None}
SPEC = parse_spec({"account_id": "act_1", "columns": {"id": "id", "status": "s", "daily_budget": "d",
                                                     "lifetime_budget": "l"}, "guardrails": OPEN}, "model m")
CBO = LiveObject("10", "campaign", "act_1", "CBO campaign", "ACTIVE", "ACTIVE", daily_budget=10000, budget_remaining=10000)
ABO = LiveObject("20", "campaign", "act_1", "ABO campaign", "ACTIVE", "ACTIVE")
ADSET = LiveObject("21", "adset", "act_1", "ad set", "ACTIVE", "ACTIVE", daily_budget=5000, budget_remaining=4000,
                   campaign_id="20")
CBO_ADSET = LiveObject("11", "adset", "act_1", "cbo ad set", "ACTIVE", "ACTIVE", campaign_id="10")
AD = LiveObject("22", "ad", "act_1", "ad", "PAUSED", "PAUSED", campaign_id="20", adset_id="21")
LIVE = LiveState({"act_1": ACCOUNT}, {o.object_id: o for o in (CBO, ABO, ADSET, CBO_ADSET, AD)})


def plan(*desired, live=LIVE, spec=SPEC, skipped=(), rails=None):
    state = DesiredState("m", len(desired) + len(skipped), tuple(desired), tuple(skipped), ())
    return plan_model("m", spec, state, live, rails)


def only(model_plan):
    (item,) = model_plan.items
    return item


def test_only_fields_that_differ_become_changes():
    item = only(plan(DesiredObject("21", status="ACTIVE", daily_budget=Decimal(6000))))
    assert item.action is Action.CHANGE
    assert [(c.field, c.before, c.after) for c in item.changes] == [("daily_budget", 5000, 6000)]


def test_equal_values_are_unchanged_and_never_written():
    model_plan = plan(DesiredObject("21", status="ACTIVE", daily_budget=Decimal(5000)))
    assert only(model_plan).action is Action.UNCHANGED and model_plan.changes == ()


def test_budget_on_an_ad_is_blocked():
    item = only(plan(DesiredObject("22", daily_budget=Decimal(600))))
    assert item.action is Action.BLOCKED and "ads have no budget" in item.reasons[0]


def test_ad_set_budget_under_a_campaign_budget_is_blocked():
    item = only(plan(DesiredObject("11", daily_budget=Decimal(600))))
    assert item.action is Action.BLOCKED and "1885621" in item.reasons[0]


def test_campaign_budget_when_ad_sets_hold_the_budget_is_blocked():
    item = only(plan(DesiredObject("20", daily_budget=Decimal(600))))
    assert item.action is Action.BLOCKED and "lives on its ad sets" in item.reasons[0]


def test_campaign_budget_on_a_cbo_campaign_is_planned():
    assert only(plan(DesiredObject("10", daily_budget=Decimal(11000)))).action is Action.CHANGE


def test_daily_budget_on_an_object_holding_a_lifetime_budget_is_blocked():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, daily_budget=None, lifetime_budget=90000,
                                                                         end_time="2026-12-31T00:00:00+0000")})
    item = only(plan(DesiredObject("21", daily_budget=Decimal(6000)), live=live))
    assert item.action is Action.BLOCKED and "both budget types" in item.reasons[0]


def test_lifetime_budget_without_end_time_is_blocked():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, daily_budget=None, lifetime_budget=90000)})
    item = only(plan(DesiredObject("21", lifetime_budget=Decimal(100000)), live=live))
    assert item.action is Action.BLOCKED and "end time" in item.reasons[0]


def test_archived_and_deleted_objects_are_blocked():
    for status in ("ARCHIVED", "DELETED"):
        live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, status=status)})
        item = only(plan(DesiredObject("21", status="PAUSED"), live=live))
        assert item.action is Action.BLOCKED and status in item.reasons[0]


def test_lowering_below_110_percent_of_spend_is_blocked_and_just_above_is_not():
    # spent = 5000 - 4000 = 1000, so the floor is 1100; the account minimum is 500
    assert only(plan(DesiredObject("21", daily_budget=Decimal(1099)))).action is Action.BLOCKED
    assert only(plan(DesiredObject("21", daily_budget=Decimal(1100)))).action is Action.CHANGE


def test_below_the_account_minimum_is_blocked():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, budget_remaining=5000)})
    item = only(plan(DesiredObject("21", daily_budget=Decimal(499)), live=live))
    assert item.action is Action.BLOCKED and "minimum of 500" in item.reasons[0]


def test_object_outside_the_model_account_is_blocked():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, account_id="act_999")})
    item = only(plan(DesiredObject("21", status="PAUSED"), live=live))
    assert item.action is Action.BLOCKED and "act_999" in item.reasons[0]


def test_unknown_object_is_invalid_with_meta_reason():
    live = replace(LIVE, unreadable={"99": "Meta #100/33: does not exist"})
    item = only(plan(DesiredObject("99", status="PAUSED"), live=live))
    assert item.action is Action.INVALID and "does not exist" in item.reasons[0]


def test_activating_under_a_paused_parent_warns_but_goes_ahead():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, status="PAUSED")})
    item = only(plan(DesiredObject("22", status="ACTIVE"), live=live))
    assert item.action is Action.CHANGE and "will not deliver" in item.warnings[0]


def test_activating_parent_and_child_together_does_not_warn():
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, status="PAUSED")})
    model_plan = plan(DesiredObject("21", status="ACTIVE"), DesiredObject("22", status="ACTIVE"), live=live)
    assert all(not i.warnings for i in model_plan.items)


def test_budget_in_account_currency_uses_the_currency_offset():
    spec = replace(SPEC, budgets_in_account_currency=True)
    item = only(plan(DesiredObject("21", daily_budget=Decimal("55.50")), spec=spec))
    assert item.changes[0].after == 5550
    jpy = LiveState({"act_1": replace(ACCOUNT, currency="JPY", min_daily_budget=100)}, LIVE.objects)
    assert only(plan(DesiredObject("21", daily_budget=Decimal("5500")), spec=spec, live=jpy)).changes[0].after == 5500


def test_fractional_minor_units_in_account_currency_are_blocked():
    spec = replace(SPEC, budgets_in_account_currency=True)
    item = only(plan(DesiredObject("21", daily_budget=Decimal("55.555")), spec=spec))
    assert item.action is Action.BLOCKED and "whole number of minor units" in item.reasons[0]
    jpy = LiveState({"act_1": replace(ACCOUNT, currency="JPY")}, LIVE.objects)
    assert only(plan(DesiredObject("21", daily_budget=Decimal("5500.5")), spec=spec, live=jpy)).action is Action.BLOCKED


def test_declared_currency_must_match_the_account():
    spec = replace(SPEC, budgets_in_account_currency=True, currency="USD")
    item = only(plan(DesiredObject("21", daily_budget=Decimal("55")), spec=spec))
    assert item.action is Action.BLOCKED and "bills in BRL" in item.reasons[0]


def test_guardrail_max_budget_increase_pct():
    rails = Guardrails(max_budget_increase_pct=Decimal(20), **{k: None for k in OPEN})
    assert only(plan(DesiredObject("21", daily_budget=Decimal(6000)), rails=rails)).action is Action.CHANGE
    item = only(plan(DesiredObject("21", daily_budget=Decimal(6001)), rails=rails))
    assert item.action is Action.BLOCKED and "max_budget_increase_pct" in item.reasons[0]


def test_guardrail_max_budget_in_model_units():
    rails = Guardrails(max_budget=Decimal(5500), max_budget_increase_pct=None, **{k: None for k in OPEN})
    assert only(plan(DesiredObject("21", daily_budget=Decimal(5600)), rails=rails)).action is Action.BLOCKED
    assert only(plan(DesiredObject("21", daily_budget=Decimal(5500)), rails=rails)).action is Action.CHANGE


def test_guardrail_max_activations_blocks_every_activation_and_nothing_else():
    paused = {str(i): LiveObject(str(i), "campaign", "act_1", f"c{i}", "PAUSED", "PAUSED") for i in range(30, 33)}
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, **paused})
    rails = Guardrails(max_activations=2, **OPEN)
    model_plan = plan(*(DesiredObject(i, status="ACTIVE") for i in paused), DesiredObject("21", status="PAUSED"),
                      live=live, rails=rails)
    actions = {i.object_id: i.action for i in model_plan.items}
    assert actions == {"30": Action.BLOCKED, "31": Action.BLOCKED, "32": Action.BLOCKED, "21": Action.CHANGE}
    assert only(plan(DesiredObject("30", status="ACTIVE"), live=live, rails=rails)).action is Action.CHANGE


def test_blast_radius_blocks_the_whole_model_when_too_much_changes():
    rails = Guardrails(max_changed_fraction=Decimal("0.5"), max_paused_fraction=None)
    model_plan = plan(DesiredObject("21", status="PAUSED"), DesiredObject("10", status="PAUSED"),
                      DesiredObject("20", status="ACTIVE"), rails=rails)
    assert model_plan.blocked_reason and "max_changed_fraction" in model_plan.blocked_reason
    assert model_plan.changes == ()
    calm = plan(DesiredObject("21", status="PAUSED"), DesiredObject("10", status="ACTIVE"),
                DesiredObject("20", status="ACTIVE"), rails=rails)
    assert calm.blocked_reason is None and len(calm.changes) == 1


def test_blast_radius_on_pauses_counts_only_active_objects():
    rails = Guardrails(max_changed_fraction=None, max_paused_fraction=Decimal("0.5"))
    model_plan = plan(DesiredObject("21", status="PAUSED"), DesiredObject("10", status="PAUSED"),
                      DesiredObject("20", status="ACTIVE"), rails=rails)
    assert model_plan.blocked_reason and "max_paused_fraction" in model_plan.blocked_reason


def test_skipped_rows_are_listed_as_skipped():
    model_plan = plan(skipped=("21",))
    assert only(model_plan).action is Action.SKIPPED and not model_plan.has_problems


def test_an_ad_set_with_four_budget_changes_this_hour_is_deferred_not_blocked():
    state = DesiredState("m", 1, (DesiredObject("21", daily_budget=Decimal(6000)),), (), ())
    deferred = only(plan_model("m", SPEC, state, LIVE, None, {"21": 4}))
    assert deferred.action is Action.DEFERRED and "4 times in the last hour" in deferred.reasons[0]
    assert only(plan_model("m", SPEC, state, LIVE, None, {"21": 3})).action is Action.CHANGE
    status_only = DesiredState("m", 1, (DesiredObject("21", status="PAUSED"),), (), ())
    assert only(plan_model("m", SPEC, status_only, LIVE, None, {"21": 9})).action is Action.CHANGE


def test_an_object_of_unknown_type_is_never_changed():
    # found only by a direct read (e.g. its listing failed): type, budgets and parents unknown
    live = LiveState({"act_1": ACCOUNT}, {**LIVE.objects, "21": replace(ADSET, kind="unknown", daily_budget=None)})
    item = only(plan(DesiredObject("21", daily_budget=Decimal(10**9)), live=live))
    assert item.action is Action.BLOCKED and "type, budgets and parents are unknown" in item.reasons[0]
