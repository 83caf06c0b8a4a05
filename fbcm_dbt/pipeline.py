"""The stages of a run, wired in one direction:

manifest -> managed models -> gate -> warehouse rows -> desired objects -> live state -> plan -> apply -> record

Each stage is one function over plain data; `run_sync`, `run_apply` and `run_rollback` compose them
for the CLI and for the Python API (`fbcm_dbt.api`), so both behave the same.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from fbcm_dbt.apply import Outcome, WriteResult, apply_model
from fbcm_dbt.config import Guardrails, SyncSpec
from fbcm_dbt.dbt import backend
from fbcm_dbt.dbt.artifacts import load_manifest, load_run_results
from fbcm_dbt.dbt.discovery import DEFAULT_TAG, GateVerdict, ManagedModel, discover, gate
from fbcm_dbt.desired import DesiredObject, DesiredState, parse_rows
from fbcm_dbt.errors import AuthError, MetaApiError, TransportError, UsageError
from fbcm_dbt.ledger import DEFAULT_TABLE, Entry, Ledger, Recorder, new_run_id, one_hour_ago
from fbcm_dbt.meta.client import ClientSettings, GraphClient
from fbcm_dbt.meta.reader import ReadRequest, read_live_state
from fbcm_dbt.plan import Action, ModelPlan, PlanItem, plan_model
from fbcm_dbt.state import LiveState

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
class LedgerOptions:
    enabled: bool = True
    schema: str | None = None  # default: the target's schema
    table: str = DEFAULT_TABLE


@dataclass(frozen=True)
class SyncOptions:
    project: backend.DbtProject
    selection: Selection = field(default_factory=Selection)
    tag: str = DEFAULT_TAG
    skip_build_check: bool = False
    guardrail_overrides: Mapping[str, Any] = field(default_factory=dict)
    ledger: LedgerOptions = field(default_factory=LedgerOptions)


@dataclass(frozen=True)
class Target:
    """A managed model and whether it may be synced now."""

    model: ManagedModel
    verdict: GateVerdict


@dataclass(frozen=True)
class Discovery:
    targets: tuple[Target, ...]
    invocation_id: str | None

    @property
    def ready(self) -> list[ManagedModel]:
        return [t.model for t in self.targets if t.verdict.ok]

    @property
    def held(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if not t.verdict.ok)


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
    interrupted: bool = False
    run_id: str | None = None
    results_path: Path | None = None
    ledger_error: str | None = None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        failed = any(w.outcome in (Outcome.FAILED, Outcome.NOT_ATTEMPTED) for w in self.writes)
        problems = self.stopped or self.ledger_error or any(p.has_problems for p in self.plans)
        return 1 if failed or problems else 0


@dataclass(frozen=True)
class Hooks:
    """Callbacks for a caller that shows progress: the plan before it is applied, each written batch."""

    on_plans: Callable[[Sequence[ModelPlan], Sequence[Target]], None] | None = None
    on_batch: Callable[[Sequence[WriteResult]], None] | None = None


# ---- stages -------------------------------------------------------------------------------------

def find_targets(options: SyncOptions, build_statuses: Mapping[str, str] | None = None) -> Discovery:
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
    targets = tuple(Target(m, _verdict(m, manifest, run_results, build_statuses, options.skip_build_check))
                    for m in models)
    return Discovery(targets, manifest.invocation_id)


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


def client_from_env(settings: ClientSettings, environ: Mapping[str, str] = os.environ, **kwargs: Any) -> GraphClient:
    token = (environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise UsageError(f"{TOKEN_ENV} is not set: export the Marketing API access token (never put it in dbt meta or vars)")
    return GraphClient(token, (environ.get(APP_SECRET_ENV) or "").strip() or None, settings, **kwargs)


def plan_inputs(client: GraphClient, inputs: Sequence[ModelInput], guardrail_overrides: Mapping[str, Any] | None = None,
                budget_changes: Mapping[str, int] | None = None) -> list[ModelPlan]:
    """Read live state for every desired object (one pass over all models) and plan each model."""
    requests = [ReadRequest(i.model.spec.account_id, frozenset(d.object_id for d in i.desired.objects)
                            | frozenset(i.desired.skipped)) for i in inputs]
    live = read_live_state(client, requests) if any(r.object_ids for r in requests) else LiveState()
    return [plan_model(i.model.name, i.model.spec, i.desired, live, i.model.spec.guardrails.merged(guardrail_overrides or {}),
                       budget_changes) for i in inputs]


def apply_plans(client: GraphClient, plans: Sequence[ModelPlan], *, validate_only: bool = False,
                recorder: Recorder | None = None, stop: "StopFlag | None" = None,
                on_batch: Callable[[Sequence[WriteResult]], None] | None = None) -> RunReport:
    """Write every model's changes, batch by batch, recording each batch as it completes.

    An error no object can survive (a dead token, an unreachable or deprecated API) stops the whole
    run, and so does a stop signal, after the batches in flight. Either way every planned change
    ends with an outcome.
    """
    writes: list[WriteResult] = []
    for index, plan in enumerate(plans):
        def record(batch: Sequence[WriteResult], plan: ModelPlan = plan) -> None:
            writes.extend(batch)
            if recorder is not None:
                recorder.writes(plan, batch)
            if on_batch is not None:
                on_batch(batch)

        try:
            apply_model(client, plan, validate_only=validate_only, on_batch=record,
                        should_stop=stop.is_set if stop else None)
        except (AuthError, TransportError, MetaApiError) as exc:
            _not_sent(plans[index:], writes, f"not sent: the run stopped ({exc})", recorder, on_batch)
            return RunReport(tuple(plans), writes=tuple(writes), stopped=str(exc))
        if stop is not None and stop.is_set():
            _not_sent(plans[index + 1:], writes, "not sent: the run was interrupted", recorder, on_batch)
            return RunReport(tuple(plans), writes=tuple(writes), stopped=stop.reason, interrupted=True)
    return RunReport(tuple(plans), writes=tuple(writes))


def _not_sent(plans: Sequence[ModelPlan], writes: list[WriteResult], reason: str, recorder: Recorder | None,
              on_batch: Callable[[Sequence[WriteResult]], None] | None) -> None:
    """Give every change that never went out its outcome, on record like the others."""
    sent = {(w.model, w.item.object_id) for w in writes}
    for plan in plans:
        rest = [WriteResult(plan.model, item, Outcome.NOT_ATTEMPTED, reason)
                for item in plan.changes if (plan.model, item.object_id) not in sent]
        if rest:
            writes.extend(rest)
            if recorder is not None:
                recorder.writes(plan, rest)
            if on_batch is not None:
                on_batch(rest)


def drift_check(client: GraphClient, plans: Sequence[ModelPlan]) -> list[ModelPlan]:
    """Block every planned change whose live values are no longer those the plan was made from."""
    requests = [ReadRequest(p.account_id, frozenset(str(i.object_id) for i in p.changes)) for p in plans]
    live = read_live_state(client, [r for r in requests if r.object_ids]) if any(r.object_ids for r in requests) \
        else LiveState()
    return [replace(plan, items=tuple(_drifted(item, plan.account_id, live) if item.action is Action.CHANGE else item
                                      for item in plan.items)) for plan in plans]


def _drifted(item: PlanItem, account_id: str, live: LiveState) -> PlanItem:
    obj = live.objects.get(str(item.object_id))
    if obj is None:
        reason = live.unreadable.get(str(item.object_id), "Meta returned nothing for this id")
        return _blocked(item, f"cannot read the object now: {reason}")
    if obj.account_id != account_id:
        return _blocked(item, f"the object belongs to {obj.account_id}, not to the plan's account {account_id}")
    return _block_if_moved(item, lambda change: change.before, lambda change: obj.value(change.field),
                           "live values drifted since the plan", "Plan again")


# ---- whole runs ---------------------------------------------------------------------------------

def run_sync(options: SyncOptions, settings: ClientSettings, *, command: str = "sync",
             build_statuses: Mapping[str, str] | None = None, hooks: Hooks = Hooks(),
             environ: Mapping[str, str] = os.environ, client_kwargs: Mapping[str, Any] | None = None) -> RunReport:
    """Plan every managed model against live state and apply what differs, on record."""
    discovery = find_targets(options, build_statuses)
    inputs = read_desired(options, discovery.ready)
    with client_from_env(settings, environ, **(client_kwargs or {})) as client, open_ledger(options) as ledger:
        history = ledger.budget_changes_since(one_hour_ago()) if ledger else {}
        plans = plan_inputs(client, inputs, options.guardrail_overrides, history)
        return _apply_on_record(client, plans, discovery, options, settings, command, ledger, hooks)


def run_apply(plans: Sequence[ModelPlan], options: SyncOptions, settings: ClientSettings, *, hooks: Hooks = Hooks(),
              environ: Mapping[str, str] = os.environ) -> RunReport:
    """Apply a saved plan exactly, refusing objects whose live values drifted since it was made."""
    with client_from_env(settings, environ) as client, open_ledger(options) as ledger:
        checked = drift_check(client, plans)
        return _apply_on_record(client, checked, Discovery((), None), options, settings, "apply", ledger, hooks)


def _apply_on_record(client: GraphClient, plans: Sequence[ModelPlan], discovery: Discovery, options: SyncOptions,
                     settings: ClientSettings, command: str, ledger: Ledger | None, hooks: Hooks) -> RunReport:
    recorder = Recorder(new_run_id(), command, ledger)
    report = RunReport(tuple(plans), discovery.held)
    try:
        recorder.plans(plans)
        if hooks.on_plans:
            hooks.on_plans(plans, discovery.held)
        with StopFlag() as stop:
            report = replace(apply_plans(client, plans, recorder=recorder, stop=stop, on_batch=hooks.on_batch),
                             held=discovery.held)
    finally:  # an interrupted or failed run keeps its results file too
        path = recorder.write_results_file(options.project.target_dir, settings.api_version, discovery.invocation_id,
                                           report.stopped)
        log.info("run %s recorded in %s%s", recorder.run_id, path,
                 f" and {ledger.relation}" if ledger else " (ledger off)")
    return replace(report, run_id=recorder.run_id, results_path=path, ledger_error=recorder.ledger_error)


def budget_history(options: SyncOptions) -> dict[str, int]:
    """Budget changes per object in the last hour, from an existing ledger (nothing is created)."""
    if not options.ledger.enabled:
        return {}
    with open_ledger(options) as ledger:
        return ledger.budget_changes_since(one_hour_ago()) if ledger and ledger.exists() else {}


@contextmanager
def open_ledger(options: SyncOptions) -> Iterator[Ledger | None]:
    if not options.ledger.enabled:
        yield None
        return
    with backend.WarehouseSession(options.project) as session:
        yield Ledger(session, options.ledger.schema, options.ledger.table)


# ---- rollback -----------------------------------------------------------------------------------

def plan_rollback(run_id: str, options: SyncOptions, client: GraphClient, ledger: Ledger) -> list[ModelPlan]:
    """Plan the return of every field a run applied to its before-value, through the same checks.

    A field whose live value is no longer what the run set was changed by someone since: it is
    blocked and named, never silently overwritten.
    """
    applied = [e for e in ledger.run_entries(run_id) if e.outcome == "applied" and e.field]
    if not applied:
        raise UsageError(f"the ledger {ledger.relation} holds no applied change for run {run_id}")
    specs = _current_specs(options)
    inputs, after_values = _rollback_inputs(applied, specs)
    plans = plan_inputs(client, inputs, options.guardrail_overrides, ledger.budget_changes_since(one_hour_ago()))
    return [replace(p, items=tuple(_changed_since(i, after_values) for i in p.items)) for p in plans]


def _current_specs(options: SyncOptions) -> dict[str, SyncSpec]:
    try:
        return {m.name: m.spec for m in discover(load_manifest(options.project.target_dir), options.tag)}
    except Exception as exc:  # the manifest may be gone or changed; rollback still works with defaults
        log.warning("rollback uses default guardrails: the manifest could not be read (%s)", exc)
        return {}


def _rollback_inputs(applied: Sequence[Entry], specs: Mapping[str, SyncSpec]) -> tuple[list[ModelInput], dict]:
    by_model: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    after_values: dict[tuple[str, str], str | None] = {}
    for entry in applied:
        fields = by_model.setdefault((entry.model, entry.account_id), {}).setdefault(str(entry.object_id), {})
        fields[str(entry.field)] = entry.before_value
        after_values[(str(entry.object_id), str(entry.field))] = entry.after_value
    inputs = []
    for (model, account_id), objects in sorted(by_model.items()):
        current = specs.get(model)
        rails = current.guardrails if current else Guardrails()
        # the run touched only these objects, so the share of a model it changes says nothing here;
        # and the ledger holds minor units, so a max_budget given in the account currency cannot apply
        rails = replace(rails, max_changed_fraction=None, max_paused_fraction=None,
                        max_budget=None if current is None or current.budgets_in_account_currency else rails.max_budget)
        spec = SyncSpec(account_id=account_id, columns={"id": "object_id", "status": "status"},
                        continue_on_error=True, guardrails=rails)
        desired = tuple(_restore(object_id, fields) for object_id, fields in sorted(objects.items()))
        managed = ManagedModel(f"rollback.{model}", model, None, None, None, None, None, "ledger", spec)
        inputs.append(ModelInput(managed, DesiredState(model, len(desired), desired, (), ())))
    return inputs, after_values


def _restore(object_id: str, fields: Mapping[str, str | None]) -> DesiredObject:
    budgets = {k: Decimal(v) for k, v in fields.items() if k != "status" and v is not None}
    return DesiredObject(object_id, status=fields.get("status"), **budgets)


def _changed_since(item: PlanItem, after_values: Mapping[tuple[str, str], str | None]) -> PlanItem:
    if item.action is not Action.CHANGE:
        return item
    return _block_if_moved(item, lambda change: after_values.get((str(item.object_id), change.field)),
                           lambda change: change.before, "changed since the run", "fbcm does not overwrite it")


def _block_if_moved(item: PlanItem, expected: Callable[[Any], Any], actual: Callable[[Any], Any], headline: str,
                    advice: str) -> PlanItem:
    """Block an item if any changed field's live value is not the one expected (compared as text,
    since the ledger stores text)."""
    moved = [f"{c.field} is {actual(c)!r}, expected {expected(c)!r}" for c in item.changes
             if _text(actual(c)) != _text(expected(c))]
    return _blocked(item, f"{headline}: {'; '.join(moved)}. {advice}") if moved else item


def _blocked(item: PlanItem, reason: str) -> PlanItem:
    return replace(item, action=Action.BLOCKED, reasons=item.reasons + (reason,))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def run_rollback(run_id: str, options: SyncOptions, settings: ClientSettings, *, apply: bool, hooks: Hooks = Hooks(),
                 environ: Mapping[str, str] = os.environ) -> RunReport:
    with client_from_env(settings, environ) as client, open_ledger(replace(options, ledger=replace(
            options.ledger, enabled=True))) as ledger:
        if ledger is None:  # enabled above: only a bug gets here
            raise UsageError("rollback needs the ledger")
        plans = plan_rollback(run_id, options, client, ledger)
        if not apply:
            if hooks.on_plans:
                hooks.on_plans(plans, ())
            return RunReport(tuple(plans))
        return _apply_on_record(client, plans, Discovery((), None), options, settings, f"rollback {run_id}", ledger,
                                hooks)


# ---- interruption -------------------------------------------------------------------------------

class StopFlag:
    """SIGINT/SIGTERM set a flag instead of killing the run mid-batch; the apply loop checks it."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def is_set(self) -> bool:
        return self.reason is not None

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.reason is not None:  # a second signal: the user really wants out
            raise KeyboardInterrupt
        self.reason = f"interrupted by {signal.Signals(signum).name}; the batch in flight was finished"
        log.warning("%s received: stopping after the batch in flight (send it again to abort at once)",
                    signal.Signals(signum).name)
