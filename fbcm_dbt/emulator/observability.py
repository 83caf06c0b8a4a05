"""Counters and the request log, so tests and benchmarks can count exactly what
a client did.

Definitions (README.md has the full table):

* ``http_requests``: Graph HTTP requests received (admin calls excluded), faulted ones included;
* ``operations``: operations that reached the Graph logic: one per top-level
  non-batch call, one per executed operation inside a batch (``null`` entries
  and requests swallowed by a request-level fault are not operations);
* ``reads``: GET operations; ``writes``: POST/DELETE operations whose token (and
  appsecret_proof) passed; ``writes_applied``: writes that changed state;
* ``throttles``: operations refused by a rate limit (score/block, mutation cap,
  budget-change limit; broken down in ``throttles_*``);
* ``errors``: error answers (one per failed operation, plus one per request
  that failed as a whole).

The log never holds tokens or appsecret_proof: it keeps paths without query
strings and only the *names* of parameters.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

COUNTER_KEYS = (
    "http_requests", "batches", "operations", "reads", "writes", "writes_applied",
    "validate_only", "silent_noops", "throttles", "throttles_score", "throttles_mutation",
    "throttles_budget", "errors", "points", "batch_nulls", "faults_drop", "faults_5xx",
    "faults_html", "faults_transient",
)


class Metrics:
    def __init__(self, log_size: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTER_KEYS, 0)
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._seq = 0

    def add(self, **increments: int) -> None:
        with self._lock:
            c = self._counters
            for key, value in increments.items():
                c[key] = c.get(key, 0) + value

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._log]

    def reset(self, clear_log: bool = True) -> None:
        with self._lock:
            self._counters = dict.fromkeys(COUNTER_KEYS, 0)
            if clear_log:
                self._log.clear()
