"""Parsing and formatting of Graph API timestamps.

Meta writes times as ``2026-12-31T23:59:59-0300`` (ISO 8601, numeric offset
without a colon, in the ad account's time zone) and accepts ISO strings or UNIX
timestamps on input.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

try:  # zoneinfo needs the system tz database; fall back to UTC without it
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None  # type: ignore[assignment]


@lru_cache(maxsize=64)
def tzinfo_for(name: str | None) -> _dt.tzinfo:
    """The tzinfo for an IANA name, or UTC when unknown/unavailable."""
    if name and ZoneInfo is not None:
        try:
            return ZoneInfo(name)
        except Exception:  # unknown zone or no tz database
            pass
    return _dt.timezone.utc


def format_time(epoch: float, tz_name: str | None) -> str:
    """Meta's timestamp format in the account's time zone."""
    dt = _dt.datetime.fromtimestamp(int(epoch), tzinfo_for(tz_name))
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")


def utc_offset_hours(tz_name: str | None, epoch: float) -> float:
    off = _dt.datetime.fromtimestamp(int(epoch), tzinfo_for(tz_name)).utcoffset()
    return (off.total_seconds() / 3600.0) if off else 0.0


def parse_time(value: object, tz_name: str | None = None) -> float | None:
    """Turn an input time into UNIX seconds.

    Accepts None/""/0 (meaning "no time"), ints/floats and digit strings (UNIX
    seconds), ISO 8601 strings (``Z``, ``+00:00`` or ``+0000`` offsets; naive
    values are read in the account time zone) and date/datetime objects (YAML
    turns unquoted timestamps into those). Raises ValueError otherwise.
    """
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return float(int(text))
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = _dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not a time: {value!r}") from exc
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tzinfo_for(tz_name))
    return dt.timestamp()
