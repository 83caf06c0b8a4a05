"""Every change on record: the run results file and the append-only ledger table in the warehouse.

A run appends one ledger row per field it changed, failed to change, deferred or refused, batch by
batch as it goes, so an interrupted run still has its record. The rows are the source of
`fbcm rollback` and of the budget-change history that keeps a run under Meta's 4-per-hour limit.
No row and no file ever holds the access token: only ids, field values and Meta's error fields.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from fbcm_dbt import __version__
from fbcm_dbt.apply import WriteResult
from fbcm_dbt.config import BUDGET_FIELDS
from fbcm_dbt.errors import FbcmError
from fbcm_dbt.plan import Action, ModelPlan, PlanItem

log = logging.getLogger("fbcm.ledger")

DEFAULT_TABLE = "fbcm_ledger"
RESULTS_FILE = "fbcm_run_results.json"
INSERT_CHUNK = 500

# column -> generic type, translated to the warehouse's dialect by its dbt adapter
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "STRING"), ("recorded_at", "TIMESTAMP"), ("command", "STRING"), ("model", "STRING"),
    ("account_id", "STRING"), ("object_id", "STRING"), ("object_type", "STRING"), ("object_name", "STRING"),
    ("field", "STRING"), ("before_value", "STRING"), ("after_value", "STRING"), ("outcome", "STRING"),
    ("error_code", "BIGINT"), ("error_subcode", "BIGINT"), ("fbtrace_id", "STRING"), ("message", "STRING"),
    ("fbcm_version", "STRING"),
)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: `20261204T201503Z-3f9a1c`."""
    moment = now or datetime.now(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Entry:
    """One ledger row / one line of the results file."""

    run_id: str
    recorded_at: str
    command: str
    model: str
    account_id: str
    object_id: str | None
    object_type: str | None
    object_name: str | None
    field: str | None
    before_value: str | None
    after_value: str | None
    outcome: str
    error_code: int | None = None
    error_subcode: int | None = None
    fbtrace_id: str | None = None
    message: str | None = None
    fbcm_version: str = __version__


class Warehouse(Protocol):
    """What the ledger needs from a warehouse connection (dbt.backend.WarehouseSession)."""

    target_schema: str

    def relation(self, schema: str, identifier: str) -> str: ...
    def type_name(self, generic: str) -> str: ...
    def string_literal(self, text: str) -> str: ...
    def exists(self, schema: str, identifier: str) -> bool: ...
    def ensure_schema(self, schema: str) -> None: ...
    def execute(self, sql: str) -> None: ...
    def fetch(self, sql: str) -> Any: ...


@dataclass
class Recorder:
    """Collects a run's outcomes; appends ledger rows as they happen and writes the results file."""

    run_id: str
    command: str
    ledger: "Ledger | None" = None
    started_at: str = field(default_factory=lambda: _now())
    entries: list[Entry] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    ledger_error: str | None = None

    def plans(self, plans: Sequence[ModelPlan]) -> None:
        """Record what the plan refused, and note unchanged/skipped objects for the results file."""
        refused: list[Entry] = []
        for plan in plans:
            for item in plan.items:
                if item.action in (Action.BLOCKED, Action.INVALID, Action.DEFERRED):
                    refused += self._item_entries(plan, item, item.action.value, "; ".join(item.reasons))
                elif item.action in (Action.UNCHANGED, Action.SKIPPED):
                    self.unchanged.append({"model": plan.model, "account_id": plan.account_id,
                                           "object_id": item.object_id, "object_type": item.kind,
                                           "object_name": item.name, "outcome": item.action.value})
        self._append(refused)

    def writes(self, plan: ModelPlan, results: Iterable[WriteResult]) -> None:
        batch: list[Entry] = []
        for result in results:
            error = result.error
            batch += self._item_entries(plan, result.item, result.outcome.value, result.message or None,
                                        error.code if error else None, error.subcode if error else None,
                                        error.fbtrace_id if error else None)
        self._append(batch)

    def write_results_file(self, target_dir: Path, api_version: str, dbt_invocation_id: str | None,
                           stopped: str | None = None) -> Path:
        target_dir.mkdir(parents=True, exist_ok=True)
        path = target_dir / RESULTS_FILE
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        for item in self.unchanged:
            counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
        doc = {
            "metadata": {"fbcm_version": __version__, "run_id": self.run_id, "command": self.command,
                         "started_at": self.started_at, "finished_at": _now(), "api_version": api_version,
                         "dbt_invocation_id": dbt_invocation_id, "stopped": stopped,
                         "ledger_error": self.ledger_error},
            "summary": counts,
            "results": [asdict(e) for e in self.entries] + self.unchanged,
        }
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return path

    def _item_entries(self, plan: ModelPlan, item: PlanItem, outcome: str, message: str | None,
                      code: int | None = None, subcode: int | None = None, trace: str | None = None) -> list[Entry]:
        stamp = _now()
        changes = item.changes or (None,)
        return [
            Entry(self.run_id, stamp, self.command, plan.model, plan.account_id, item.object_id, item.kind, item.name,
                  change.field if change else item.column, _text(change.before) if change else None,
                  _text(change.after) if change else None, outcome, code, subcode, trace, message)
            for change in changes
        ]

    def _append(self, entries: list[Entry]) -> None:
        if not entries:
            return
        self.entries += entries
        if self.ledger is None:
            return
        try:
            self.ledger.append(entries)
        except FbcmError as exc:
            # the writes already happened: keep going, and keep every row in the results file
            self.ledger_error = f"the ledger {self.ledger.relation} could not be written ({exc}); " \
                                "the results file holds every row of this run"
            log.error("%s", self.ledger_error)
            self.ledger = None


class Ledger:
    """The append-only ledger table, created on first use through the user's dbt adapter."""

    def __init__(self, warehouse: Warehouse, schema: str | None = None, table: str = DEFAULT_TABLE):
        self.warehouse = warehouse
        self.schema = schema or warehouse.target_schema
        self.table = table
        self.relation = warehouse.relation(self.schema, table)
        self._ready = False

    def exists(self) -> bool:
        return self._ready or self.warehouse.exists(self.schema, self.table)

    def ensure(self) -> None:
        if self._ready:
            return
        if not self.warehouse.exists(self.schema, self.table):
            self.warehouse.ensure_schema(self.schema)
            columns = ", ".join(f"{name} {self.warehouse.type_name(kind)}" for name, kind in LEDGER_COLUMNS)
            self.warehouse.execute(f"create table if not exists {self.relation} ({columns})")
        self._ready = True

    def append(self, entries: Sequence[Entry]) -> None:
        self.ensure()
        names = ", ".join(name for name, _ in LEDGER_COLUMNS)
        for start in range(0, len(entries), INSERT_CHUNK):
            rows = ",\n".join(
                "(" + ", ".join(self._literal(getattr(e, name), kind) for name, kind in LEDGER_COLUMNS) + ")"
                for e in entries[start:start + INSERT_CHUNK])
            self.warehouse.execute(f"insert into {self.relation} ({names}) values\n{rows}")

    def _literal(self, value: Any, kind: str) -> str:
        if value is None:
            return "null"
        if kind == "BIGINT":
            return str(int(value))
        text = self.warehouse.string_literal(str(value))
        return f"cast({text} as {self.warehouse.type_name('TIMESTAMP')})" if kind == "TIMESTAMP" else text

    def run_entries(self, run_id: str) -> list[Entry]:
        self.ensure()
        table = self.warehouse.fetch(f"select * from {self.relation} where run_id = {self._literal(run_id, 'STRING')}")
        return [_entry(dict(zip((c.name.lower() for c in table.columns), row))) for row in table.rows]

    def budget_changes_since(self, since: datetime) -> dict[str, int]:
        """Applied budget changes per object since `since`: what counts toward Meta's 4-per-hour limit."""
        self.ensure()
        fields = ", ".join(self._literal(f, "STRING") for f in BUDGET_FIELDS)
        table = self.warehouse.fetch(
            f"select object_id, count(*) from {self.relation} where outcome = 'applied' and field in ({fields}) "
            f"and recorded_at >= {self._literal(_stamp(since), 'TIMESTAMP')} group by object_id")
        return {str(row[0]): int(row[1]) for row in table.rows}


def _entry(row: dict[str, Any]) -> Entry:
    values = {name: row.get(name) for name, _ in LEDGER_COLUMNS}
    values["recorded_at"] = str(values["recorded_at"])
    return Entry(**values)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _now() -> str:
    return _stamp(datetime.now(timezone.utc))


def _stamp(moment: datetime) -> str:
    """UTC, without zone suffix: a plain TIMESTAMP literal every warehouse reads the same way."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def one_hour_ago() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=1)
