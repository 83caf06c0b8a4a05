"""A plan saved to JSON and read back: what `fbcm plan -o` writes and `fbcm apply` executes.

The file holds the live values each change was planned against, so `apply` can refuse an object
that changed since. It never holds the access token.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from fbcm_dbt import __version__
from fbcm_dbt.config import BUDGET_FIELDS
from fbcm_dbt.desired import ALLOWED_STATUSES, normalize_id
from fbcm_dbt.errors import PlanFileError
from fbcm_dbt.meta.currency import INT64_MAX
from fbcm_dbt.plan import Action, FieldChange, ModelPlan, PlanItem

FORMAT_VERSION = 1


def plan_to_dict(plans: Sequence[ModelPlan], api_version: str) -> dict[str, Any]:
    return {
        "fbcm_plan_version": FORMAT_VERSION,
        "fbcm_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "api_version": api_version,
        "models": [_model_to_dict(p) for p in plans],
    }


def save_plan(path: Path, plans: Sequence[ModelPlan], api_version: str) -> None:
    path.write_text(json.dumps(plan_to_dict(plans, api_version), indent=2) + "\n", encoding="utf-8")


def load_plan(path: Path) -> list[ModelPlan]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("fbcm_plan_version") != FORMAT_VERSION:
        raise PlanFileError(f"{path} is not an fbcm plan (version {FORMAT_VERSION}); create it with `fbcm plan -o`")
    try:
        return [_model_from_dict(m) for m in doc["models"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{path} is damaged ({type(exc).__name__}: {exc}); create it again with `fbcm plan -o`") from None


def _change(data: dict[str, Any]) -> FieldChange:
    """A planned change as written by fbcm: nothing else may reach Meta from a file."""
    name, after = data["field"], data["after"]
    if name == "status" and after not in ALLOWED_STATUSES:
        raise ValueError(f"status {after!r} is not one of {', '.join(ALLOWED_STATUSES)}")
    if name in BUDGET_FIELDS and (isinstance(after, bool) or not isinstance(after, int) or not 0 < after <= INT64_MAX):
        raise ValueError(f"{name} {after!r} is not a positive whole number of minor units")
    if name not in ("status", *BUDGET_FIELDS):
        raise ValueError(f"field {name!r} is not one fbcm writes")
    return FieldChange(name, data["before"], after)


def _model_to_dict(plan: ModelPlan) -> dict[str, Any]:
    data = asdict(plan)
    for item in data["items"]:
        item["action"] = item["action"].value
    return data


def _model_from_dict(data: dict[str, Any]) -> ModelPlan:
    items = tuple(
        PlanItem(
            object_id=i["object_id"] if i["object_id"] is None else normalize_id(i["object_id"]),
            action=Action(i["action"]),
            kind=i.get("kind"),
            name=i.get("name"),
            changes=tuple(_change(c) for c in i.get("changes", ())),
            reasons=tuple(i.get("reasons", ())),
            warnings=tuple(i.get("warnings", ())),
            column=i.get("column"),
            parent_campaign=i.get("parent_campaign"),
        )
        for i in data["items"]
    )
    return ModelPlan(
        model=data["model"],
        account_id=data["account_id"],
        currency=data.get("currency"),
        row_count=int(data["row_count"]),
        items=items,
        blocked_reason=data.get("blocked_reason"),
        continue_on_error=bool(data.get("continue_on_error")),
        log_payload=bool(data.get("log_payload")),
    )
