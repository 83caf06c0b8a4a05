"""Injected faults: what can go wrong between a client and Meta.

Faults apply to Graph endpoints only (never to ``/__emulator/`` admin calls).
All random draws come from one ``random.Random(seed)``, so a single-threaded
client sees the same faults on every run; tests that need exact outcomes use
rates of 0 or 1, or ``silent_noop_ids``.

Per HTTP request, in this order: ``drop_connection_rate`` (socket closed, no
answer, nothing executed), ``latency_ms`` (sleep, outside the state lock),
``http_5xx_rate`` (HTTP 503, plain-text body), ``html_error_rate`` (HTTP 502,
HTML body), ``transient_error_rate`` (HTTP 500, JSON code 1 or 2 with
``is_transient: true``). None of these execute the request.
Per batch operation: ``batch_null_rate`` (not executed, entry is ``null``).
Per write: ``silent_noop_rate`` / ``silent_noop_ids`` (validated and charged,
answered with success, nothing changed).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

REQUEST_FAULTS = ("drop", "5xx", "html", "transient")


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0
    http_5xx_rate: float = 0
    html_error_rate: float = 0
    transient_error_rate: float = 0
    batch_null_rate: float = 0
    drop_connection_rate: float = 0
    silent_noop_rate: float = 0
    silent_noop_ids: frozenset = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_rate"):
                value = getattr(self, f.name)
                if not 0 <= value <= 1:
                    raise ValueError(f"{f.name} must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not isinstance(self.silent_noop_ids, frozenset):
            object.__setattr__(self, "silent_noop_ids", frozenset(str(i) for i in self.silent_noop_ids))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Faults":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if "silent_noop_ids" in data:
            data["silent_noop_ids"] = frozenset(str(i) for i in data["silent_noop_ids"] or ())
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["silent_noop_ids"] = sorted(self.silent_noop_ids)
        return out


class FaultInjector:
    """Draws faults from a seeded RNG (thread-safe)."""

    def __init__(self, faults: Faults | None, seed: int = 0) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, faults: Faults) -> None:
        self.faults = faults

    def _hit(self, rate: float) -> bool:
        # Rates of exactly 0 or 1 draw nothing, so they do not shift the
        # sequence seen by the other faults.
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate

    def request_fault(self) -> str | None:
        """A request-level fault name (see REQUEST_FAULTS) or None."""
        f = self.faults
        if self._hit(f.drop_connection_rate):
            return "drop"
        if self._hit(f.http_5xx_rate):
            return "5xx"
        if self._hit(f.html_error_rate):
            return "html"
        if self._hit(f.transient_error_rate):
            return "transient"
        return None

    def transient_code(self) -> int:
        with self._lock:
            return 1 if self._rng.random() < 0.5 else 2

    def batch_null(self) -> bool:
        return self._hit(self.faults.batch_null_rate)

    def silent_noop(self, object_id: str) -> bool:
        f = self.faults
        return object_id in f.silent_noop_ids or self._hit(f.silent_noop_rate)

    @property
    def latency_seconds(self) -> float:
        return self.faults.latency_ms / 1000.0
