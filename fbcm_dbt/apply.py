"""Execute the `change` items of a plan: batched writes, read-after-write verification, outcomes.

A write asks Meta to return the written fields in the same call (read-after-write), so verifying
costs no extra request; a write that reports success but did not take effect is a failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Sequence

from fbcm_dbt.errors import MetaErrorDetail
from fbcm_dbt.meta.client import MAX_BATCH, Call, GraphClient, Result
from fbcm_dbt.meta.errors import is_budget_change_limit
from fbcm_dbt.plan import ModelPlan, PlanItem
from fbcm_dbt.state import AD, ADSET

log = logging.getLogger("fbcm.apply")

_VERIFY_FIELDS = {AD: "id,status"}
_DEFAULT_VERIFY_FIELDS = "id,status,daily_budget,lifetime_budget"


class Outcome(str, Enum):
    APPLIED = "applied"
    VALIDATED = "validated"
    DEFERRED = "deferred"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"


@dataclass(frozen=True)
class WriteResult:
    model: str
    item: PlanItem
    outcome: Outcome
    message: str = ""
    error: MetaErrorDetail | None = None


def apply_model(client: GraphClient, plan: ModelPlan, *, validate_only: bool = False,
                on_batch: Callable[[list[WriteResult]], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> list[WriteResult]:
    """Write every change of one model's plan, several batches at once.

    With continue_on_error off the model stops at the first failure, strictly: objects then go one
    per request, one request at a time, so nothing is sent after a failure. `should_stop` is asked
    before each batch: an interrupted run finishes the batches in flight and sends no more.
    """
    strict = not (plan.continue_on_error or validate_only)
    groups = list(_batches(plan.changes, 1 if strict else MAX_BATCH))
    calls = [[_write_call(item, validate_only) for item in group] for group in groups]

    def sending(index: int) -> None:
        for item, call in zip(groups[index], calls[index]):
            log.info("%s: %s %s <- %s", plan.model, item.kind, item.object_id,
                     {k: v for k, v in call.params.items() if k != "fields"})

    judged: dict[int, list[WriteResult]] = {}
    first_failure: list[WriteResult] = []

    def done(index: int, results: list[Result]) -> None:
        judged[index] = [_judge(plan.model, item, result, validate_only) for item, result in zip(groups[index], results)]
        if on_batch:
            on_batch(judged[index])
        if strict and not first_failure:
            first_failure.extend(r for r in judged[index] if r.outcome is Outcome.FAILED)

    def stop() -> bool:
        return bool(first_failure) or bool(should_stop and should_stop())

    client.execute_batches(calls, on_done=done, should_stop=stop, max_in_flight=1 if strict else None,
                           on_send=sending if plan.log_payload else None)
    reason = (f"not sent: {first_failure[0].item.object_id} failed first and continue_on_error is off"
              if first_failure else "not sent: the run was interrupted")
    for index, group in enumerate(groups):
        if index not in judged:
            judged[index] = [WriteResult(plan.model, item, Outcome.NOT_ATTEMPTED, reason) for item in group]
            if on_batch:
                on_batch(judged[index])
    return [result for index in range(len(groups)) for result in judged[index]]


def _write_call(item: PlanItem, validate_only: bool) -> Call:
    params: dict[str, object] = dict(item.payload)
    if validate_only:
        params["execution_options"] = ["validate_only"]
    else:
        params["fields"] = _VERIFY_FIELDS.get(item.kind or "", _DEFAULT_VERIFY_FIELDS)
    return Call("POST", str(item.object_id), params)


def _judge(model: str, item: PlanItem, result: Result, validate_only: bool) -> WriteResult:
    if result.error is not None and is_budget_change_limit(result.error):
        return WriteResult(model, item, Outcome.DEFERRED,
                           "Meta allows 4 budget changes per ad set per hour; run again after the hour", result.error)
    if result.error is not None:
        return WriteResult(model, item, Outcome.FAILED, result.error.describe(), result.error)
    if validate_only:
        return WriteResult(model, item, Outcome.VALIDATED, "Meta accepted the change (validate_only, nothing applied)")
    body = result.body if isinstance(result.body, dict) else {}
    mismatched = [c for c in item.changes if _normalise(body.get(c.field)) != _normalise(c.after)]
    if mismatched:
        detail = ", ".join(f"{c.field} is {body.get(c.field)!r}, expected {c.after!r}" for c in mismatched)
        return WriteResult(model, item, Outcome.FAILED,
                           f"Meta reported success but the change did not take effect ({detail})")
    return WriteResult(model, item, Outcome.APPLIED)


def _normalise(value: object) -> str | None:
    return None if value is None else str(value)


def _batches(items: Sequence[PlanItem], size: int) -> Iterable[list[PlanItem]]:
    """Groups of at most `size`, with at most one ad set per campaign in a group.

    Meta's batch documentation says a batch cannot include several ad sets of one campaign; it is
    unclear whether that covers updates, so fbcm never sends such a batch.
    """
    pending = list(items)
    while pending:
        group: list[PlanItem] = []
        campaigns: set[str] = set()
        rest: list[PlanItem] = []
        for item in pending:
            parent = item.parent_campaign if item.kind == ADSET else None
            if len(group) >= size or (parent and parent in campaigns):
                rest.append(item)
                continue
            group.append(item)
            if parent:
                campaigns.add(parent)
        yield group
        pending = rest
