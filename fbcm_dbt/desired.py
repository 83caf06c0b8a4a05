"""Rows of a desired-state model -> validated desired objects (the row rules).

Pure: a RawTable and a SyncSpec in, DesiredState out. Every rejected row becomes a RowIssue that
names the model, the id and the column; rejected rows are never written, the others go on.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from fbcm_dbt.config import BUDGET_FIELDS, SyncSpec
from fbcm_dbt.table import Column, RawTable
from fbcm_dbt.errors import ConfigError
from fbcm_dbt.meta.currency import INT64_MAX

ALLOWED_STATUSES = ("ACTIVE", "PAUSED")
_FLOAT_TYPES = re.compile(r"^(float\d*|double( precision)?|real|float4|float8)\b", re.IGNORECASE)
_DIGITS = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class DesiredObject:
    """What one row asks for. Budgets are Decimal in the model's unit until the currency is known."""

    object_id: str
    status: str | None = None
    daily_budget: Decimal | None = None
    lifetime_budget: Decimal | None = None

    def requested(self) -> dict[str, Any]:
        values = {"status": self.status, "daily_budget": self.daily_budget, "lifetime_budget": self.lifetime_budget}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class RowIssue:
    model: str
    object_id: str | None
    column: str | None
    message: str

    def describe(self) -> str:
        where = f"model {self.model}"
        where += f", id {self.object_id}" if self.object_id else ""
        where += f", column {self.column}" if self.column else ""
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class DesiredState:
    model: str
    row_count: int
    objects: tuple[DesiredObject, ...]
    skipped: tuple[str, ...]
    issues: tuple[RowIssue, ...]


def parse_rows(model: str, spec: SyncSpec, table: RawTable) -> DesiredState:
    """Apply the row rules to every row of `table`."""
    positions = _column_positions(model, spec, table)
    id_pos = positions["id"]
    id_column = table.columns[id_pos]
    if _FLOAT_TYPES.match(id_column.dtype.strip()):
        issue = RowIssue(model, None, id_column.name,
                         f"the id column is {id_column.dtype}: Meta ids have 15-18 digits and lose precision in "
                         "floating point. Store them as BIGINT, NUMERIC(38,0) or VARCHAR")
        return DesiredState(model, len(table.rows), (), (), (issue,))

    parsed: list[tuple[str | None, DesiredObject | None, list[RowIssue]]] = []
    for number, row in enumerate(table.rows, start=1):
        parsed.append(_parse_row(model, spec, positions, table.columns, row, number))
    counts = Counter(object_id for object_id, _, _ in parsed if object_id is not None)

    objects: list[DesiredObject] = []
    skipped: list[str] = []
    issues: list[RowIssue] = []
    for object_id, desired, row_issues in parsed:
        if object_id is not None and counts[object_id] > 1:
            issues.append(RowIssue(model, object_id, spec.id_column,
                                   f"the id appears in {counts[object_id]} rows; which one wins would be arbitrary, "
                                   "so none is applied. Make the model return one row per id"))
        elif row_issues:
            issues.extend(row_issues)
        elif desired is not None and not desired.requested():
            skipped.append(desired.object_id)
        elif desired is not None:
            objects.append(desired)
    # a warehouse returns rows in no particular order; numeric id order keeps plans comparable run to run
    objects.sort(key=lambda o: (len(o.object_id), o.object_id))
    skipped.sort(key=lambda i: (len(i), i))
    return DesiredState(model, len(table.rows), tuple(objects), tuple(skipped), tuple(issues))


def _column_positions(model: str, spec: SyncSpec, table: RawTable) -> dict[str, int]:
    exact = {c.name: i for i, c in enumerate(table.columns)}
    folded = {c.name.lower(): i for i, c in enumerate(table.columns)}
    positions: dict[str, int] = {}
    for field, column in spec.columns.items():
        position = exact.get(column, folded.get(column.lower()))
        if position is None:
            available = ", ".join(c.name for c in table.columns)
            raise ConfigError(f"model {model}: meta.fbcm.columns.{field} names column '{column}', "
                              f"which the model does not have (columns: {available})")
        positions[field] = position
    return positions


def _parse_row(model: str, spec: SyncSpec, positions: Mapping[str, int], columns: tuple[Column, ...],
               row: tuple[Any, ...], number: int) -> tuple[str | None, DesiredObject | None, list[RowIssue]]:
    id_column = columns[positions["id"]].name
    try:
        object_id = normalize_id(row[positions["id"]])
    except ValueError as exc:
        return None, None, [RowIssue(model, f"(row {number})", id_column, str(exc))]
    issues: list[RowIssue] = []
    values: dict[str, Any] = {}
    for field in spec.value_fields:
        column = columns[positions[field]].name
        raw = row[positions[field]]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            values[field] = normalize_status(raw) if field == "status" else normalize_budget(raw, spec)
        except ValueError as exc:
            issues.append(RowIssue(model, object_id, column, str(exc)))
    if all(values.get(f) is not None for f in BUDGET_FIELDS):
        issues.append(RowIssue(model, object_id, f"{spec.columns['daily_budget']}, {spec.columns['lifetime_budget']}",
                               "daily and lifetime budget in one row: an object has one budget type; set one of them"))
    return object_id, DesiredObject(object_id, **values), issues


def normalize_id(value: Any) -> str:
    """A Meta object id as a string of digits, refusing anything that may have lost digits."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("the id is empty")
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"the id {value!r} is a floating-point number; store ids as BIGINT, NUMERIC(38,0) or VARCHAR")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"the id {value} is not a Meta object id (ids are positive)")
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value() or value <= 0:
            raise ValueError(f"the id {value} is not a whole positive number")
        if value.as_tuple().exponent > 0:  # e.g. 1.2E+17 from a DOUBLE cast: digits were lost
            raise ValueError(f"the id {value} is in scientific notation, so digits were lost; "
                             "store ids as BIGINT, NUMERIC(38,0) or VARCHAR")
        return str(int(value))
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.match(text):
            return text
        if re.fullmatch(r"[0-9.]+[eE][+-]?[0-9]+", text):
            raise ValueError(f"the id {text!r} is in scientific notation, so digits were lost; "
                             "store ids as BIGINT, NUMERIC(38,0) or VARCHAR")
        raise ValueError(f"the id {text!r} is not numeric; Meta object ids are strings of digits")
    raise ValueError(f"the id {value!r} has unsupported type {type(value).__name__}")


def normalize_status(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"status {value!r} is not text; use one of {', '.join(ALLOWED_STATUSES)}")
    status = value.strip().upper()
    if status not in ALLOWED_STATUSES:
        raise ValueError(f"status {value!r} is not one of {', '.join(ALLOWED_STATUSES)}")
    return status


def normalize_budget(value: Any, spec: SyncSpec) -> Decimal:
    """A positive budget as Decimal in the model's unit; minor units must be whole numbers."""
    if isinstance(value, bool):
        raise ValueError(f"budget {value!r} is not a number")
    if isinstance(value, float):
        value = repr(value)  # the warehouse already stored a binary float; keep exactly what it holds
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, (int, Decimal)) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"budget {value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"budget {value!r} is not a number")
    if amount <= 0:
        raise ValueError(f"budget {amount} must be positive; to stop spending set the status to PAUSED")
    if not spec.budgets_in_account_currency and amount != amount.to_integral_value():
        raise ValueError(f"budget {amount} is not a whole number of minor units (cents); "
                         "set budgets_in_account_currency: true if the column holds amounts like 50.25")
    if amount > INT64_MAX:
        raise ValueError(f"budget {amount} is larger than Meta accepts (int64)")
    return amount
