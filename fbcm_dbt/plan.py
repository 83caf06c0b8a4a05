"""The planner: desired objects + live state + rules -> a field-level plan. Pure: no I/O.

Every object ends in exactly one action. Only `change` items are ever written; a blocked item is
blocked whole (no partial write of a row), with every reason that applies so one fix round is enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Iterable, Mapping

from fbcm_dbt.config import BUDGET_FIELDS, Guardrails, SyncSpec
from fbcm_dbt.desired import DesiredObject, DesiredState
from fbcm_dbt.meta.currency import INT64_MAX, UnknownCurrency, currency_offset
from fbcm_dbt.state import AD, ADSET, CAMPAIGN, AccountInfo, LiveObject, LiveState

SPEND_HEADROOM = Decimal("1.1")  # Meta: a lowered budget must stay 10% above what was already spent
BUDGET_CHANGES_PER_HOUR = 4  # Meta blocks an ad set's budget changes for an hour after the 4th in one hour


class Action(str, Enum):
    CHANGE = "change"
    DEFERRED = "deferred"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    INVALID = "invalid"


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | int | None
    after: str | int


@dataclass(frozen=True)
class PlanItem:
    object_id: str | None
    action: Action
    kind: str | None = None
    name: str | None = None
    changes: tuple[FieldChange, ...] = ()
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    column: str | None = None
    parent_campaign: str | None = None

    @property
    def payload(self) -> dict[str, str | int]:
        return {c.field: c.after for c in self.changes}


@dataclass(frozen=True)
class ModelPlan:
    model: str
    account_id: str
    currency: str | None
    row_count: int
    items: tuple[PlanItem, ...]
    blocked_reason: str | None = None
    continue_on_error: bool = False
    log_payload: bool = False

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action is action)

    @property
    def changes(self) -> tuple[PlanItem, ...]:
        return tuple(item for item in self.items if item.action is Action.CHANGE)

    @property
    def has_problems(self) -> bool:
        return any(item.action in (Action.BLOCKED, Action.INVALID) for item in self.items)


@dataclass(frozen=True)
class _Context:
    spec: SyncSpec
    guardrails: Guardrails
    account: AccountInfo | None
    live: LiveState
    desired_status: Mapping[str, str] = field(default_factory=dict)
    budget_changes: Mapping[str, int] = field(default_factory=dict)


def plan_model(model: str, spec: SyncSpec, desired: DesiredState, live: LiveState,
               guardrails: Guardrails | None = None, budget_changes: Mapping[str, int] | None = None) -> ModelPlan:
    """The plan for one model.

    `guardrails` defaults to the model's own (CLI overrides merged by the caller); `budget_changes`
    counts the budget changes fbcm made per object in the last hour (from the ledger).
    """
    context = _Context(
        spec=spec,
        guardrails=guardrails or spec.guardrails,
        account=live.accounts.get(spec.account_id),
        live=live,
        desired_status={d.object_id: d.status for d in desired.objects if d.status},
        budget_changes=budget_changes or {},
    )
    items: list[PlanItem] = [
        PlanItem(issue.object_id, Action.INVALID, reasons=(issue.message,), column=issue.column)
        for issue in desired.issues
    ]
    items += [_skipped(object_id, live) for object_id in desired.skipped]
    items += [_plan_object(d, context) for d in desired.objects]
    items = _apply_activation_limit(items, context)
    blocked_reason = _blast_radius(items, desired, live, context)
    if blocked_reason:
        items = [_block(item, blocked_reason) if item.action is Action.CHANGE else item for item in items]
    return ModelPlan(
        model=model,
        account_id=spec.account_id,
        currency=context.account.currency if context.account else spec.currency,
        row_count=desired.row_count,
        items=tuple(items),
        blocked_reason=blocked_reason,
        continue_on_error=spec.continue_on_error,
        log_payload=spec.log_payload,
    )


def _skipped(object_id: str, live: LiveState) -> PlanItem:
    obj = live.objects.get(object_id)
    return PlanItem(object_id, Action.SKIPPED, kind=obj.kind if obj else None, name=obj.name if obj else None,
                    reasons=("the row has an id and nothing to change",))


def _plan_object(desired: DesiredObject, ctx: _Context) -> PlanItem:
    object_id = desired.object_id
    live_obj = ctx.live.objects.get(object_id)
    if live_obj is None:
        reason = ctx.live.unreadable.get(object_id, "Meta returned nothing for this id")
        return PlanItem(object_id, Action.INVALID, reasons=(f"cannot read the object: {reason}",), column=ctx.spec.id_column)
    base = PlanItem(object_id, Action.UNCHANGED, kind=live_obj.kind, name=live_obj.name,
                    parent_campaign=live_obj.campaign_id)
    if live_obj.account_id != ctx.spec.account_id:
        return replace(base, action=Action.BLOCKED, reasons=(
            f"the object belongs to {live_obj.account_id}, not to the model's account {ctx.spec.account_id}; "
            "fbcm never writes outside the model's account",))

    reasons: list[str] = []
    if live_obj.kind not in (CAMPAIGN, ADSET, AD):
        reasons.append("the object was not found on its account's campaign, ad set or ad listings, so its type, "
                       "budgets and parents are unknown; fbcm changes nothing it cannot check")
    after: dict[str, str | int] = {}
    if desired.status is not None:
        after["status"] = desired.status
    for budget_field in BUDGET_FIELDS:
        amount = getattr(desired, budget_field)
        if amount is not None:
            minor = _to_minor(amount, ctx, reasons, budget_field)
            if minor is not None:
                after[budget_field] = minor
    changes = tuple(
        FieldChange(name, live_obj.value(name), value) for name, value in after.items() if live_obj.value(name) != value
    )
    if reasons:
        return replace(base, action=Action.BLOCKED, changes=changes, reasons=tuple(reasons))
    if not changes:
        return base
    reasons += _safety_reasons(live_obj, changes, ctx)
    reasons += _guardrail_reasons(desired, live_obj, changes, ctx)
    warnings = tuple(_warnings(live_obj, changes, ctx))
    if reasons:
        return replace(base, action=Action.BLOCKED, changes=changes, reasons=tuple(reasons), warnings=warnings)
    recent = ctx.budget_changes.get(object_id, 0)
    if live_obj.kind == ADSET and recent >= BUDGET_CHANGES_PER_HOUR and any(c.field in BUDGET_FIELDS for c in changes):
        return replace(base, action=Action.DEFERRED, changes=changes, warnings=warnings, reasons=(
            f"deferred: fbcm changed this ad set's budget {recent} times in the last hour and Meta allows "
            f"{BUDGET_CHANGES_PER_HOUR}; a later run applies it",))
    return replace(base, action=Action.CHANGE, changes=changes, warnings=warnings)


def _to_minor(amount: Decimal, ctx: _Context, reasons: list[str], budget_field: str) -> int | None:
    """The model's amount in Meta's minor units, or None with the reason appended."""
    if not ctx.spec.budgets_in_account_currency:
        return int(amount)
    if ctx.account is None:
        reasons.append(f"{budget_field}: the ad account {ctx.spec.account_id} could not be read, so its currency is unknown")
        return None
    if ctx.spec.currency and ctx.spec.currency != ctx.account.currency.upper():
        reasons.append(f"{budget_field}: the model declares currency {ctx.spec.currency} but {ctx.spec.account_id} "
                       f"bills in {ctx.account.currency}")
        return None
    try:
        offset = currency_offset(ctx.account.currency)
    except UnknownCurrency as exc:
        reasons.append(f"{budget_field}: {exc}; give budgets in minor units instead")
        return None
    minor = amount * offset
    if minor != minor.to_integral_value():
        smallest = "whole units" if offset == 1 else f"1/{offset} of a unit"
        reasons.append(f"{budget_field}: {amount} {ctx.account.currency} is not a whole number of minor units "
                       f"({smallest}); round it in the model")
        return None
    if minor > INT64_MAX:
        reasons.append(f"{budget_field}: {amount} {ctx.account.currency} is larger than Meta accepts")
        return None
    return int(minor)


def _safety_reasons(obj: LiveObject, changes: tuple[FieldChange, ...], ctx: _Context) -> list[str]:
    """Changes Meta would reject, caught before they cost a call."""
    reasons: list[str] = []
    if obj.status in ("ARCHIVED", "DELETED"):
        reasons.append(f"the object is {obj.status}: only its name can change, and fbcm does not manage it any more")
        return reasons
    budget_changes = [c for c in changes if c.field in BUDGET_FIELDS]
    if not budget_changes:
        return reasons
    if obj.kind == AD:
        return [f"ads have no budget: set {budget_changes[0].field} on the ad set (or campaign) that holds it"]
    if obj.kind == CAMPAIGN and not obj.holds_budget:
        reasons.append("the budget of this campaign lives on its ad sets (no campaign budget): "
                       "set budgets on the ad set rows instead")
    if obj.kind == ADSET:
        parent = ctx.live.objects.get(obj.campaign_id or "")
        if parent is None:
            reasons.append(f"the parent campaign {obj.campaign_id} could not be read, so the budget level is unknown")
        elif parent.holds_budget:
            reasons.append(f"campaign {parent.object_id} holds the budget (Advantage campaign budget): "
                           "an ad set budget would be refused (Meta 1885621); change the campaign's budget instead")
    for change in budget_changes:
        reasons += _budget_value_reasons(obj, change, ctx)
    return reasons


def _budget_value_reasons(obj: LiveObject, change: FieldChange, ctx: _Context) -> list[str]:
    reasons: list[str] = []
    other = "lifetime_budget" if change.field == "daily_budget" else "daily_budget"
    new = int(change.after)
    if obj.value(other):
        reasons.append(f"the object has a {other.replace('_', ' ')}; one object cannot hold both budget types")
    if change.field == "lifetime_budget" and obj.kind == ADSET and not obj.end_time:
        reasons.append("a lifetime budget needs an end time, and this ad set has none; set end_time in Ads Manager first")
    minimum = ctx.account.min_daily_budget if ctx.account else None
    if change.field == "daily_budget" and minimum and new < minimum:
        reasons.append(f"daily_budget {new} is below the account's minimum of {minimum} (minor units)")
    old = obj.value(change.field)
    if isinstance(old, int) and new < old and obj.budget_remaining is not None:
        spent = max(old - obj.budget_remaining, 0)
        floor = (Decimal(spent) * SPEND_HEADROOM).to_integral_value(rounding="ROUND_CEILING")
        if new < floor:
            reasons.append(f"{change.field} {new} is below 110% of the {spent} already spent in this budget period "
                           f"(at least {int(floor)}); Meta refuses it")
    return reasons


def _guardrail_reasons(desired: DesiredObject, obj: LiveObject, changes: tuple[FieldChange, ...],
                       ctx: _Context) -> list[str]:
    reasons: list[str] = []
    rails = ctx.guardrails
    for change in changes:
        if change.field not in BUDGET_FIELDS:
            continue
        model_amount = getattr(desired, change.field)
        if rails.max_budget is not None and model_amount > rails.max_budget:
            reasons.append(f"guardrail max_budget: {change.field} {model_amount} is above {rails.max_budget}")
        old = change.before
        if rails.max_budget_increase_pct is not None and isinstance(old, int) and old > 0 and int(change.after) > old:
            increase = Decimal(int(change.after) - old) * 100 / old
            if increase > rails.max_budget_increase_pct:
                reasons.append(f"guardrail max_budget_increase_pct: {change.field} rises {increase:.1f}% "
                               f"({old} -> {change.after}), above {rails.max_budget_increase_pct}%")
    return reasons


def _warnings(obj: LiveObject, changes: tuple[FieldChange, ...], ctx: _Context) -> Iterable[str]:
    if not any(c.field == "status" and c.after == "ACTIVE" for c in changes):
        return
    for parent_id in (obj.adset_id, obj.campaign_id):
        parent = ctx.live.objects.get(parent_id or "")
        if parent is None:
            continue
        status = ctx.desired_status.get(parent.object_id, parent.status)
        if status != "ACTIVE":
            yield f"activating under {parent.kind} {parent.object_id}, which is {status}: it will not deliver"


def _is_activation(item: PlanItem) -> bool:
    return item.action is Action.CHANGE and any(c.field == "status" and c.after == "ACTIVE" for c in item.changes)


def _apply_activation_limit(items: list[PlanItem], ctx: _Context) -> list[PlanItem]:
    limit = ctx.guardrails.max_activations
    activations = sum(1 for item in items if _is_activation(item))
    if limit is None or activations <= limit:
        return items
    reason = (f"guardrail max_activations: the model activates {activations} objects, more than {limit}; "
              "every activation is spend, so none is applied")
    return [_block(item, reason) if _is_activation(item) else item for item in items]


def _blast_radius(items: list[PlanItem], desired: DesiredState, live: LiveState, ctx: _Context) -> str | None:
    """A whole-model stop when the plan looks like a broken model rather than a decision."""
    rails = ctx.guardrails
    total = desired.row_count
    changing = [item for item in items if item.action is Action.CHANGE]
    if not changing or total == 0:
        return None
    if rails.max_changed_fraction is not None and Decimal(len(changing)) / total > rails.max_changed_fraction:
        return (f"guardrail max_changed_fraction: the plan changes {len(changing)} of {total} objects, more than "
                f"{rails.max_changed_fraction:%} — a sign of a broken model; raise the guardrail if this is intended")
    model_ids = {d.object_id for d in desired.objects} | set(desired.skipped)
    active_now = sum(1 for i in model_ids if (o := live.objects.get(i)) is not None and o.status == "ACTIVE")
    pausing = sum(1 for item in changing if any(c.field == "status" and c.after == "PAUSED" for c in item.changes))
    if rails.max_paused_fraction is not None and active_now and Decimal(pausing) / active_now > rails.max_paused_fraction:
        return (f"guardrail max_paused_fraction: the plan pauses {pausing} of the {active_now} active objects, more "
                f"than {rails.max_paused_fraction:%}; raise the guardrail if this is intended")
    return None


def _block(item: PlanItem, reason: str) -> PlanItem:
    return replace(item, action=Action.BLOCKED, reasons=item.reasons + (reason,))
