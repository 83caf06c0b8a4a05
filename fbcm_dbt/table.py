"""Rows of a relation as the warehouse returned them: the boundary between reading and the row rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # as the adapter names it: VARCHAR, DOUBLE, numeric(18,2), ...


@dataclass(frozen=True)
class RawTable:
    """Every row of a relation with the adapter's own Python values (int, Decimal, str, None, ...)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
