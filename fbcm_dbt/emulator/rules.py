"""Meta's validation rules for updates of campaigns, ad sets and ads.

:func:`plan_update` turns the parameters of ``POST /{id}`` into an
:class:`UpdatePlan` (the state-file fields to change) or raises the
:class:`~.errors.GraphError` Meta would answer. It never changes the store:
applying a plan is a separate step so that ``validate_only`` and the
"silent no-op" fault can skip it, and so that a request is all-or-nothing.

Subcodes marked "emulator-chosen" below are not documented by Meta; they are
listed in README.md. The budget-change-per-hour limit is a rate limit and
lives in limits.py.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import GraphError, invalid_parameter
from .store import STATUSES, Store
from .timeutil import format_time, parse_time

INT64_MAX = 2**63 - 1
BUDGET_KEYS = ("daily_budget", "lifetime_budget")
EXECUTION_OPTIONS = ("validate_only", "include_recommendations", "synchronous_ad_review")
# Params that carry auth, formatting or routing rather than an edit.
NON_EDIT_PARAMS = frozenset({
    "access_token", "appsecret_proof", "fields", "execution_options", "method",
    "format", "locale", "pretty", "suppress_http_code", "debug", "include_headers",
    "metadata", "transport", "_reqName", "_reqSrc", "sdk",
})
# Which edit params each type takes. Anything else is ignored, as Graph does
# with parameters an endpoint does not know (UNCONFIRMED for every param).
ACCEPTED = {
    "campaign": ("status", "name", "daily_budget", "lifetime_budget", "spend_cap"),
    "adset": ("status", "name", "daily_budget", "lifetime_budget", "end_time", "start_time", "bid_amount"),
    "ad": ("status", "name", "bid_amount"),
}
# Params that exist on one type but are a client bug on another: refused.
REFUSED = {
    "campaign": ("end_time", "bid_amount"),
    "adset": ("spend_cap",),
    "ad": ("daily_budget", "lifetime_budget", "end_time", "spend_cap"),
}
TYPE_WORD = {"campaign": "campaigns", "adset": "ad sets", "ad": "ads"}

SUB_DELETED = {"campaign": 1487566, "adset": 1487056, "ad": 1885088}
SUB_ARCHIVED = 1885088          # ERRREF: archived ad, "only name is allowed"; reused for all types
SUB_LEVEL_CONFLICT = 1885621    # ERRREF
SUB_TOO_LOW = 1885272           # ERRREF
SUB_BELOW_SPENT = 1885650       # ERRREF "too low ... to account for spending"; used for the 110 % rule
SUB_END_IN_PAST = 1487033       # ERRREF "end date must be in the future"
SUB_BOTH_BUDGETS = 1885155      # emulator-chosen
SUB_LIFETIME_NEEDS_END = 1487233  # emulator-chosen

_UINT = re.compile(r"^[0-9]+$")
_INT = re.compile(r"^-?[0-9]+$")


@dataclass
class UpdatePlan:
    """What an accepted update would do."""

    changes: dict[str, Any] = field(default_factory=dict)
    validate_only: bool = False
    include_recommendations: bool = False
    fields: list[str] | None = None
    budget_changed: bool = False
    # status/name/schedule changes move updated_time; budget changes do not
    touches_updated_time: bool = False


def parse_fields(value: str | None) -> list[str]:
    if not value:
        return []
    return [f.strip() for f in value.split(",") if f.strip()]


def parse_execution_options(value: str | None) -> set[str]:
    if value is None or value == "":
        return set()
    try:
        items = json.loads(value)
    except ValueError:
        items = [v.strip() for v in value.split(",")]
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise errors.bad_param("param execution_options must be an array", blame="execution_options")
    out = set()
    for i, item in enumerate(items):
        if item not in EXECUTION_OPTIONS:
            raise errors.bad_param(
                f"param execution_options[{i}] must be one of {{{', '.join(EXECUTION_OPTIONS)}}}",
                blame="execution_options",
            )
        out.add(item)
    if "include_recommendations" in out and "validate_only" not in out:
        raise errors.bad_param(
            "include_recommendations can only be used together with validate_only",
            blame="execution_options",
        )
    return out


def is_validate_only(params: dict[str, str]) -> bool:
    """Whether a request asks for validate_only (False when the option is malformed)."""
    try:
        return "validate_only" in parse_execution_options(params.get("execution_options"))
    except GraphError:
        return False


def parse_amount(name: str, value: str) -> int:
    """A money or bid parameter: a whole, non-negative number below 2^63."""
    text = value.strip()
    if not _INT.match(text):
        raise errors.bad_param(f"Param {name} must be an integer", blame=name)
    if not _UINT.match(text):
        raise errors.bad_param(f"Param {name} must be a non-negative integer", blame=name)
    number = int(text)
    if number > INT64_MAX:
        raise errors.bad_param(
            f"Param {name} must be a number less than or equal to {INT64_MAX}", blame=name
        )
    return number


def plan_update(store: Store, oid: str, params: dict[str, str], wall: float) -> UpdatePlan:
    """Check an update against Meta's rules; raise GraphError or return the plan."""
    kind = store.kinds[oid]
    obj = store.objects[oid]
    plan = UpdatePlan()
    options = parse_execution_options(params.get("execution_options"))
    plan.validate_only = "validate_only" in options
    plan.include_recommendations = "include_recommendations" in options
    if "fields" in params:
        plan.fields = parse_fields(params["fields"])

    if kind == "account":
        # The emulator does not model ad account edits (spend_cap etc.).
        edits = [k for k in params if k not in NON_EDIT_PARAMS]
        if edits:
            raise errors.bad_param(f"Param {edits[0]} cannot be updated through this emulator", blame=edits[0])
        return plan

    # ---- 1. parameter shapes (no state needed) -------------------------
    for name in REFUSED[kind]:
        if name in params:
            raise errors.bad_param(f"Param {name} is not valid for {TYPE_WORD[kind]}", blame=name)
    account = store.account_of_obj(obj, kind)
    tz = account["timezone_name"]
    new: dict[str, Any] = {}
    for name in ACCEPTED[kind]:
        if name not in params:
            continue
        raw = params[name]
        if name == "status":
            if raw not in STATUSES:
                raise errors.bad_param(
                    "status must be one of the following values: " + ", ".join(STATUSES), blame="status"
                )
            new["status"] = raw
        elif name == "name":
            if len(raw) > 400:
                raise errors.bad_param("Param name must be at most 400 characters long", blame="name")
            new["name"] = raw
        elif name in BUDGET_KEYS:
            if raw.strip() == "":
                # Meta answers success and changes nothing for a blank budget
                # (reported by third parties): emulate that quirk.
                continue
            new[name] = parse_amount(name, raw)
        elif name in ("bid_amount", "spend_cap"):
            new[name] = parse_amount(name, raw)
        elif name in ("end_time", "start_time"):
            try:
                epoch = parse_time(raw, tz)
            except ValueError:
                raise errors.bad_param(f"Param {name} must be a valid date/time", blame=name) from None
            new[name] = epoch  # epoch seconds or None; formatted when applied

    # ---- 2. status: DELETED and ARCHIVED objects accept almost nothing --
    status = obj["status"]
    edited = set(new)
    if status == "DELETED":
        blocked = edited - {"name"}
        if new.get("status") == "DELETED":
            blocked.discard("status")  # re-sending DELETED changes nothing
        if blocked:
            raise invalid_parameter(
                SUB_DELETED[kind],
                "Cannot Edit Deleted Object",
                f"This {kind_label(kind)} has been deleted. Only its name can be changed, "
                "and a deleted object cannot be restored.",
                blame=sorted(blocked)[0],
            )
    elif status == "ARCHIVED":
        blocked = edited - {"name", "status"}
        if new.get("status") not in (None, "ARCHIVED", "DELETED"):
            blocked.add("status")
        if blocked:
            raise invalid_parameter(
                SUB_ARCHIVED,
                "Cannot Edit Archived Object",
                f"This {kind_label(kind)} is archived: only its name can be changed, and its "
                "status can only be set to DELETED.",
                blame=sorted(blocked)[0],
            )

    # ---- 3. budgets ------------------------------------------------------
    budget_given = any(k in new for k in BUDGET_KEYS)
    end_given = "end_time" in new
    if kind in ("campaign", "adset") and (budget_given or end_given):
        _check_budgets(store, oid, kind, obj, account, new, budget_given, wall)

    # ---- 4. build the change set ---------------------------------------
    for key, value in new.items():
        if key in ("end_time", "start_time"):
            value = None if value is None else format_time(value, tz)
        plan.changes[key] = value
    cur_d, cur_l = obj.get("daily_budget") or 0, obj.get("lifetime_budget") or 0
    new_d = new.get("daily_budget", cur_d) or 0
    new_l = new.get("lifetime_budget", cur_l) or 0
    plan.budget_changed = (new_d, new_l) != (cur_d, cur_l)
    plan.touches_updated_time = any(
        k not in ("daily_budget", "lifetime_budget", "spend_cap") and obj.get(k) != v
        for k, v in plan.changes.items()
    )
    return plan


def kind_label(kind: str) -> str:
    return {"campaign": "campaign", "adset": "ad set", "ad": "ad"}[kind]


def _check_budgets(
    store: Store, oid: str, kind: str, obj: dict, account: dict, new: dict,
    budget_given: bool, wall: float,
) -> None:
    cur_d = obj.get("daily_budget") or 0
    cur_l = obj.get("lifetime_budget") or 0
    new_d = new.get("daily_budget", cur_d) or 0
    new_l = new.get("lifetime_budget", cur_l) or 0
    end_epoch = None
    if kind == "adset":
        if "end_time" in new:
            end_epoch = new["end_time"]
            if end_epoch is not None and end_epoch <= wall:
                current = parse_time(obj.get("end_time"), account["timezone_name"])
                if current != end_epoch:
                    raise invalid_parameter(
                        SUB_END_IN_PAST, "End Date Must Be In The Future",
                        "The end time of your ad set must be in the future.", blame="end_time",
                    )
        else:
            end_epoch = parse_time(obj.get("end_time"), account["timezone_name"])
    elif kind == "campaign":
        end_epoch = parse_time(obj.get("stop_time"), account["timezone_name"])

    if budget_given:
        if new_d > 0 and new_l > 0:
            raise invalid_parameter(
                SUB_BOTH_BUDGETS, "Only One Budget Type Allowed",
                "You can set either a daily budget or a lifetime budget, not both. Set the "
                "other budget to 0 in the same request to switch budget types.",
                blame="lifetime_budget" if "lifetime_budget" in new else "daily_budget",
            )
        if new_d > 0 or new_l > 0:
            _check_level(store, oid, kind, obj)
        if (cur_d > 0 or cur_l > 0) and new_d == 0 and new_l == 0:
            raise invalid_parameter(
                SUB_TOO_LOW, "Budget Is Too Low",
                f"A budget of 0 is below the minimum of {account['min_daily_budget']} "
                f"{account.get('currency', '')}. A budget cannot be removed by setting it to 0.",
                blame="daily_budget" if "daily_budget" in new else "lifetime_budget",
            )

    if kind == "adset" and new_l > 0 and end_epoch is None:
        raise invalid_parameter(
            SUB_LIFETIME_NEEDS_END, "End Time Required",
            "An ad set with a lifetime budget needs an end time. Set end_time in the same request.",
            blame="end_time",
        )

    minimum = int(account["min_daily_budget"])
    if new_d > 0 and "daily_budget" in new and new_d < minimum:
        raise _too_low("daily_budget", minimum, account, kind)
    if new_l > 0 and ("lifetime_budget" in new or "end_time" in new):
        days = 1
        if end_epoch is not None:
            days = max(1, math.ceil((end_epoch - wall) / 86400.0))
        if new_l < minimum * days:
            raise _too_low("lifetime_budget", minimum * days, account, kind)

    spent = int(obj.get("amount_spent") or 0)
    for key in BUDGET_KEYS:
        value = new.get(key)
        if value and value * 10 < spent * 11:
            raise invalid_parameter(
                SUB_BELOW_SPENT, "Budget Too Low For Amount Spent",
                f"Your budget must be at least 10% more than the amount already spent "
                f"({spent}): at least {math.ceil(spent * 1.1)}.",
                blame=key,
            )


def _too_low(key: str, minimum: int, account: dict, kind: str) -> GraphError:
    return invalid_parameter(
        SUB_TOO_LOW, "Budget Is Too Low",
        f"Your budget is too low. The minimum {key.replace('_', ' ')} for this "
        f"{kind_label(kind)} is {minimum} ({account.get('currency', '')} minor units).",
        blame=key,
    )


def _check_level(store: Store, oid: str, kind: str, obj: dict) -> None:
    """The budget lives on the campaign (Advantage campaign budget) or on its ad sets."""
    if kind == "adset":
        camp = store.objects[obj["campaign_id"]]
        conflict = bool(camp.get("daily_budget") or camp.get("lifetime_budget"))
    else:
        conflict = any(
            (store.objects[s].get("daily_budget") or store.objects[s].get("lifetime_budget"))
            and store.objects[s]["status"] != "DELETED"
            for s in store.children(oid, "adsets")
        )
    if conflict:
        raise invalid_parameter(
            SUB_LEVEL_CONFLICT,
            "Budget Conflict: Campaign Already Has a Budget" if kind == "adset"
            else "Budget Conflict: Ad Sets Already Have Budgets",
            "You can only set an ad set budget or a campaign budget.",
            blame="daily_budget",
        )
