"""Meta's error JSON -> MetaErrorDetail, and what each code means for a caller: retry, wait, stop."""

from __future__ import annotations

from enum import Enum
from typing import Any, Mapping

from fbcm_dbt.errors import MetaErrorDetail


class ErrorKind(str, Enum):
    AUTH = "auth"            # token or permission: no call can succeed, stop the run
    THROTTLED = "throttled"  # rate limit: wait as long as Meta says, then retry
    TRANSIENT = "transient"  # Meta-side hiccup: retry with backoff
    PERMANENT = "permanent"  # the request itself is wrong: fail this object, never retry


_AUTH_CODES = frozenset({10, 102, 104, 190, 270, 294}) | frozenset(range(200, 300))
_THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008,
                             80009, 80014})
_TRANSIENT_CODES = frozenset({1, 2})
# 613 subcodes that are not a rate window but a per-object rule; retrying within the hour cannot help.
BUDGET_CHANGE_LIMIT_SUBCODE = 1487632
_APPSECRET_HINTS = ("appsecret_proof",)


def parse_error(payload: Any, http_status: int | None) -> MetaErrorDetail | None:
    """The error in a Graph response body, or None when the body carries none."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("error"), Mapping):
        return None
    error = payload["error"]
    return MetaErrorDetail(
        message=str(error.get("message") or "unknown error"),
        code=_int_or_none(error.get("code")),
        subcode=_int_or_none(error.get("error_subcode")),
        error_type=error.get("type"),
        user_title=error.get("error_user_title"),
        user_message=error.get("error_user_msg"),
        fbtrace_id=error.get("fbtrace_id"),
        is_transient=bool(error.get("is_transient")),
        http_status=http_status,
    )


def classify(detail: MetaErrorDetail) -> ErrorKind:
    if detail.code in _AUTH_CODES:
        return ErrorKind.AUTH
    if detail.code == 100 and any(hint in detail.message for hint in _APPSECRET_HINTS):
        return ErrorKind.AUTH  # a missing or wrong appsecret_proof is code 100, but no call will pass
    if is_budget_change_limit(detail):
        return ErrorKind.PERMANENT
    if detail.code in _THROTTLE_CODES:
        return ErrorKind.THROTTLED
    if detail.code in _TRANSIENT_CODES or (detail.is_transient and detail.code not in (100, 368)):
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def is_budget_change_limit(detail: MetaErrorDetail) -> bool:
    """Meta's per-ad-set limit of 4 budget changes per hour: a reason to defer, not a failure."""
    return detail.code == 613 and detail.subcode == BUDGET_CHANGE_LIMIT_SUBCODE


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
