"""The stages of a sync, wired in one direction:

manifest -> managed models -> gate -> warehouse rows -> desired objects -> live state -> plan -> apply

Each function does one stage and returns plain data, so the CLI and the Python API compose the
same steps (`fbcm plan` stops after the plan; `fbcm sync` goes on to apply it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from fbcm_dbt.config import Guardrails
from fbcm_dbt.dbt import backend
from fbcm_dbt.dbt.artifacts import load_manifest, load_run_results
from fbcm_dbt.dbt.discovery import DEFAULT_TAG, GateVerdict, ManagedModel, discover, gate
from fbcm_dbt.desired import DesiredState, parse_rows
from fbcm_dbt.errors import AuthError, UsageError
from fbcm_dbt.meta.client import ClientSettings, GraphClient
from fbcm_dbt.meta.reader import ReadRequest, read_live_state
from fbcm_dbt.plan import Action, ModelPlan, PlanItem, plan_model
from fbcm_dbt.state import LiveState
from fbcm_dbt.apply import Outcome, WriteResult, apply_model

log = logging.getLogger("fbcm")

TOKEN_ENV = "FBCM_ACCESS_TOKEN"
APP_SECRET_ENV = "FBCM_APP_SECRET"


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    selector: str | None = None

    @property
    def given(self) -> bool:
        return bool(self.select or self.exclude or self.selector)


@dataclass(frozen=True)
class SyncOptions:
    project: backend.DbtProject
    selection: Selection = field(default_factory=Selection)
    tag: str = DEFAULT_TAG
    skip_build_check: bool = False
    guardrail_overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A managed model and whether it may be synced now."""

    model: ManagedModel
    verdict: GateVerdict


@dataclass(frozen=True)
class ModelInput:
    model: ManagedModel
    desired: DesiredState


@dataclass(frozen=True)
class RunReport:
    plans: tuple[ModelPlan, ...]
    held: tuple[Target, ...] = ()
    writes: tuple[WriteResult, ...] = ()
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        failed = any(w.outcome in (Outcome.FAILED, Outcome.NOT_ATTEMPTED) for w in self.writes)
        return 1 if failed or self.stopped or any(p.has_problems for p in self.plans) else 0


def find_targets(options: SyncOptions, build_statuses: Mapping[str, str] | None = None) -> list[Target]:
    """Managed models after dbt's selection, each with the verdict of the last build.

    `build_statuses` come from a dbt invocation fbcm just ran itself (`fbcm run`); without them the
    verdict comes from run_results.json.
    """
    manifest = load_manifest(options.project.target_dir)
    models = discover(manifest, options.tag)
    if options.selection.given:
        chosen = backend.select_unique_ids(options.project, options.selection.select, options.selection.exclude,
                                           options.selection.selector)
        models = [m for m in models if m.unique_id in chosen]
    run_results = None if build_statuses is not None else load_run_results(options.project.target_dir)
    targets: list[Target] = []
    for model in models:
        targets.append(Target(model, _verdict(model, manifest, run_results, build_statuses, options.skip_build_check)))
    return targets


def _verdict(model: ManagedModel, manifest: Any, run_results: Any, build_statuses: Mapping[str, str] | None,
             skip_build_check: bool) -> GateVerdict:
    if model.refusal:
        return GateVerdict(False, model.refusal)
    if skip_build_check:
        return GateVerdict(True, "build check skipped (--skip-build-check)")
    if build_statuses is not None:
        status = build_statuses.get(model.unique_id)
        if status == "success":
            return GateVerdict(True, "built successfully by this run")
        return GateVerdict(False, f"this run's dbt status for the model is '{status or 'not built'}'")
    return gate(model, manifest, run_results)


def read_desired(options: SyncOptions, models: Sequence[ManagedModel]) -> list[ModelInput]:
    """Every model's rows, read through the user's dbt profile, checked by the row rules."""
    inputs = []
    for model in models:
        table = backend.read_relation(options.project, model.relation_name or "", model.database, model.schema,
                                      model.identifier)
        inputs.append(ModelInput(model, parse_rows(model.name, model.spec, table)))
    return inputs


def client_from_env(settings: ClientSettings, environ: Mapping[str, str] = os.environ) -> GraphClient:
    token = (environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise UsageError(f"{TOKEN_ENV} is not set: export the Marketing API access token (never put it in dbt meta or vars)")
    return GraphClient(token, (environ.get(APP_SECRET_ENV) or "").strip() or None, settings)


def plan_inputs(client: GraphClient, inputs: Sequence[ModelInput],
                guardrail_overrides: Mapping[str, Any] | None = None) -> list[ModelPlan]:
    """Read live state for every desired object (one pass over all models) and plan each model."""
    requests = [ReadRequest(i.model.spec.account_id, frozenset(d.object_id for d in i.desired.objects)
                            | frozenset(i.desired.skipped)) for i in inputs]
    live = read_live_state(client, requests) if any(r.object_ids for r in requests) else LiveState()
    plans = []
    for item in inputs:
        rails: Guardrails = item.model.spec.guardrails.merged(guardrail_overrides or {})
        plans.append(plan_model(item.model.name, item.model.spec, item.desired, live, rails))
    return plans


def apply_plans(client: GraphClient, plans: Sequence[ModelPlan], *, validate_only: bool = False,
                on_result: Callable[[WriteResult], None] | None = None) -> RunReport:
    """Write every model's changes; an auth error stops the whole run (no point hammering a dead token)."""
    writes: list[WriteResult] = []
    for index, plan in enumerate(plans):
        try:
            writes += apply_model(client, plan, validate_only=validate_only, on_result=on_result)
        except AuthError as exc:
            not_sent = [WriteResult(p.model, item, Outcome.NOT_ATTEMPTED, "not sent: the run stopped on an auth error")
                        for p in plans[index:] for item in p.changes]
            return RunReport(tuple(plans), writes=tuple(writes + not_sent), stopped=str(exc))
    return RunReport(tuple(plans), writes=tuple(writes))


def drift_check(client: GraphClient, plans: Sequence[ModelPlan]) -> list[ModelPlan]:
    """Block every planned change whose live values are no longer those the plan was made from."""
    requests = [ReadRequest(p.account_id, frozenset(str(i.object_id) for i in p.changes)) for p in plans]
    live = read_live_state(client, [r for r in requests if r.object_ids])
    checked = []
    for plan in plans:
        items = tuple(_drifted(item, live.objects.get(str(item.object_id)), live.unreadable)
                      if item.action is Action.CHANGE else item for item in plan.items)
        checked.append(replace(plan, items=items))
    return checked


def _drifted(item: PlanItem, obj: Any, unreadable: Mapping[str, str]) -> PlanItem:
    if obj is None:
        reason = unreadable.get(str(item.object_id), "Meta returned nothing for this id")
        return replace(item, action=Action.BLOCKED, reasons=item.reasons + (f"cannot read the object now: {reason}",))
    moved = [f"{c.field} was {c.before!r} when planned, is {obj.value(c.field)!r} now"
             for c in item.changes if obj.value(c.field) != c.before]
    if not moved:
        return item
    return replace(item, action=Action.BLOCKED,
                   reasons=item.reasons + ("live values drifted since the plan: " + "; ".join(moved)
                                           + ". Plan again",))
