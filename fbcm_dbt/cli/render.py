"""How plans, summaries and model lists look on a terminal (rich) and as JSON."""

from __future__ import annotations

import json
import logging
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from fbcm_dbt.apply import Outcome, WriteResult
from fbcm_dbt.config import BUDGET_FIELDS
from fbcm_dbt.meta.currency import format_money
from fbcm_dbt.pipeline import ModelInput, RunReport, Target
from fbcm_dbt.plan import Action, FieldChange, ModelPlan

_ACTION_STYLE = {
    Action.CHANGE: "yellow", Action.DEFERRED: "magenta", Action.UNCHANGED: "dim", Action.SKIPPED: "dim",
    Action.BLOCKED: "red", Action.INVALID: "red",
}
_OUTCOME_STYLE = {Outcome.APPLIED: "green", Outcome.VALIDATED: "green", Outcome.DEFERRED: "magenta",
                  Outcome.FAILED: "red", Outcome.NOT_ATTEMPTED: "red"}
log = logging.getLogger("fbcm.results")


class WriteProgress:
    """A progress bar on stderr while changes are written — only when stderr is a terminal."""

    _active: list["WriteProgress"] = []

    def __init__(self, enabled: bool, events_level: int = logging.DEBUG):
        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.events_level = events_level
        self.total = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        if not self.enabled or total == 0:
            return
        self._progress = Progress(TextColumn("writing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=self.console, transient=True)
        self._task = self._progress.add_task("write", total=total)
        self._progress.start()
        WriteProgress._active.append(self)

    def advance(self, batch: Sequence[WriteResult]) -> None:
        for write in batch:  # one event per object for --log-format json consumers
            log.log(self.events_level, "%s %s %s: %s", write.outcome.value, write.item.kind, write.item.object_id, write.message,
                      extra={"event": "ObjectResult", "data": _write_dict(write)})
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, len(batch))

    @classmethod
    def stop_all(cls) -> None:
        for bar in cls._active:
            if bar._progress is not None:
                bar._progress.stop()
        cls._active.clear()


def targets(console: Console, items: Sequence[Target]) -> None:
    if not items:
        console.print("No managed models found: tag a model 'fbcm' with a meta.fbcm block, or declare an exposure.")
        return
    table = Table(title="Managed models", title_justify="left")
    for column in ("model", "declared by", "account", "columns", "will sync"):
        table.add_column(column)
    for target in items:
        spec = target.model.spec
        mapping = ", ".join(f"{k}={v}" for k, v in spec.columns.items())
        verdict = ("[green]yes[/]" if target.verdict.ok else "[red]no[/]") + f" — {target.verdict.reason}"
        table.add_row(target.model.name, target.model.declared_by, spec.account_id, mapping, verdict)
    console.print(table)


def held(console: Console, items: Iterable[Target]) -> None:
    for target in items:
        console.print(f"[yellow]skipped model {target.model.name}[/]: {target.verdict.reason}")


def validation(console: Console, inputs: Sequence[ModelInput]) -> None:
    for item in inputs:
        desired = item.desired
        console.print(f"[bold]{item.model.name}[/]: {desired.row_count} rows — {len(desired.objects)} to check against "
                      f"Meta, {len(desired.skipped)} with nothing to change, {len(desired.issues)} invalid")
        if desired.row_count == 0:
            console.print("  the model has no rows: nothing to do")
        for issue in desired.issues:
            console.print(f"  [red]invalid[/] {issue.describe()}")


def plans(console: Console, model_plans: Sequence[ModelPlan], show_unchanged: bool = False) -> None:
    for plan in model_plans:
        console.print(f"\n[bold]{plan.model}[/] ({plan.account_id}, {plan.currency or 'currency unknown'}): "
                      + _counts(plan))
        if plan.row_count == 0:
            console.print("  the model has no rows: nothing to do")
        if plan.blocked_reason:
            console.print(f"  [red]whole model blocked[/]: {plan.blocked_reason}")
        table = Table(show_header=True, box=None, pad_edge=False)
        for column in ("", "object", "type", "name", "field", "before", "after", "notes"):
            table.add_column(column, overflow="fold")
        rows = 0
        for item in plan.items:
            if item.action in (Action.UNCHANGED, Action.SKIPPED) and not show_unchanged:
                continue
            style = _ACTION_STYLE[item.action]
            notes = "; ".join([*item.reasons, *(f"warning: {w}" for w in item.warnings)])
            changes: Sequence[FieldChange | None] = item.changes or (None,)
            for index, change in enumerate(changes):
                table.add_row(
                    f"[{style}]{item.action.value}[/]" if index == 0 else "",
                    str(item.object_id or "") if index == 0 else "",
                    (item.kind or "") if index == 0 else "",
                    (item.name or "") if index == 0 else "",
                    change.field if change else (item.column or ""),
                    _value(change.field, change.before, plan.currency) if change else "",
                    _value(change.field, change.after, plan.currency) if change else "",
                    notes if index == 0 else "",
                )
                rows += 1
        if rows:
            console.print(table)


def plans_markdown(console: Console, model_plans: Sequence[ModelPlan]) -> None:
    """The plan as GitHub-flavoured Markdown, e.g. for a CI job summary ($GITHUB_STEP_SUMMARY)."""
    lines = ["## fbcm plan", ""]
    for plan in model_plans:
        lines += [f"### {plan.model} ({plan.account_id}, {plan.currency or 'currency unknown'}): {_counts(plan)}", ""]
        if plan.blocked_reason:
            lines += [f"**Whole model blocked:** {plan.blocked_reason}", ""]
        shown = [i for i in plan.items if i.action not in (Action.UNCHANGED, Action.SKIPPED)]
        if not shown:
            continue
        lines += ["| action | object | type | name | field | before | after | notes |", "|---|---|---|---|---|---|---|---|"]
        for item in shown:
            notes = "; ".join([*item.reasons, *(f"warning: {w}" for w in item.warnings)]).replace("|", "\\|")
            for change in item.changes or (None,):
                lines.append("| " + " | ".join([
                    item.action.value, str(item.object_id or ""), item.kind or "", (item.name or "").replace("|", "\\|"),
                    change.field if change else (item.column or ""),
                    _value(change.field, change.before, plan.currency) if change else "",
                    _value(change.field, change.after, plan.currency) if change else "", notes]) + " |")
        lines.append("")
    console.file.write("\n".join(lines) + "\n")


def summary(console: Console, report: RunReport, title: str = "fbcm") -> None:
    by_model: dict[str, list[WriteResult]] = {}
    for write in report.writes:
        by_model.setdefault(write.model, []).append(write)
    applied = "validated" if any(w.outcome is Outcome.VALIDATED for w in report.writes) else "applied"
    table = Table(title=title + (f" run {report.run_id}" if report.run_id else ""), title_justify="left")
    for column in ("model", applied, "unchanged", "skipped", "deferred", "blocked", "invalid", "failed", "not sent"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for plan in report.plans:
        writes = by_model.get(plan.model, [])
        count = lambda outcome: sum(1 for w in writes if w.outcome is outcome)  # noqa: E731
        table.add_row(plan.model, str(count(Outcome.APPLIED) + count(Outcome.VALIDATED)),
                      str(plan.count(Action.UNCHANGED)), str(plan.count(Action.SKIPPED)),
                      str(plan.count(Action.DEFERRED) + count(Outcome.DEFERRED)),
                      str(plan.count(Action.BLOCKED)), str(plan.count(Action.INVALID)),
                      str(count(Outcome.FAILED)), str(count(Outcome.NOT_ATTEMPTED)))
    console.print(table)
    for write in report.writes:
        if write.outcome in (Outcome.FAILED, Outcome.NOT_ATTEMPTED, Outcome.DEFERRED):
            console.print(f"[{_OUTCOME_STYLE[write.outcome]}]{write.outcome.value}[/] {write.model} "
                          f"{write.item.kind} {write.item.object_id}: {write.message}")
    if report.stopped:
        console.print(f"[red]run stopped[/]: {report.stopped}")
    if report.ledger_error:
        console.print(f"[red]ledger[/]: {report.ledger_error}")
    if report.results_path:
        console.print(f"results: {report.results_path}")


def writes_json(report: RunReport) -> list[dict[str, Any]]:
    return [_write_dict(w) for w in report.writes]


def _write_dict(w: WriteResult) -> dict[str, Any]:
    return {"model": w.model, "object_id": w.item.object_id, "kind": w.item.kind, "outcome": w.outcome.value,
            "message": w.message, "changes": [c.__dict__ for c in w.item.changes],
            "error": None if w.error is None else {"code": w.error.code, "subcode": w.error.subcode,
                                                   "message": w.error.message, "fbtrace_id": w.error.fbtrace_id}}


def dump_json(console: Console, data: Any) -> None:
    """Plain JSON on stdout: no highlighting and no wrapping, whatever the terminal width."""
    console.file.write(json.dumps(data, indent=2, default=str) + "\n")


def _counts(plan: ModelPlan) -> str:
    parts = [f"{plan.count(a)} {a.value}" for a in Action if plan.count(a)]
    return ", ".join(parts) or "no rows"


def _value(field: str, value: Any, currency: str | None) -> str:
    if value is None:
        return "—"
    if field in BUDGET_FIELDS and isinstance(value, int):
        return f"{format_money(value, currency)} ({value})"
    return str(value)
