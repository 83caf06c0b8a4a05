"""Stay under Meta's rate limits instead of running into them.

Meta scores each ad account: a read costs 1 point, a write 3; the score decays continuously and
the account is blocked (60-300 s, longer if calls go on) once it passes the tier's maximum. Every
response reports the utilisation (`X-Ad-Account-Usage: acc_id_util_pct`) and the seconds until the
score is back to zero (`reset_time_duration`). From those the pacer predicts what the next batch
would bring the score to and, if that is over its target, waits just long enough for the score to
decay. A separate window keeps writes under Meta's mutations-per-second cap.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping

# Meta's documented maximum scores per access tier (header value -> points).
TIER_MAX_SCORE = {"development_access": 60, "standard_access": 9000}
DEFAULT_MAX_SCORE = 9000
DEFAULT_DECAY_SECONDS = 300.0
READ_POINTS, WRITE_POINTS = 1, 3


@dataclass(frozen=True)
class PacingSettings:
    target_pct: float = 95.0            # never plan to go past this share of the account's score limit
    mutations_per_second: int | None = 100
    enabled: bool = True


class Pacer:
    """Thread-safe: batches sent concurrently reserve their points before they go out."""

    def __init__(self, settings: PacingSettings | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings or PacingSettings()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pct = 0.0                  # utilisation at the last observation
        self._observed_at = clock()
        self._decay_pct_per_s = 100.0 / DEFAULT_DECAY_SECONDS
        self._pct_per_point = 100.0 / DEFAULT_MAX_SCORE
        self._in_flight_points = 0
        self._writes: deque[float] = deque()
        self._blocked_until = 0.0
        self.waits = 0
        self.seconds_waited = 0.0

    def block_for(self, seconds: float) -> None:
        """Meta said the account is blocked: nobody sends until then (a call during a block extends it)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def reserve(self, points: int, writes: int) -> None:
        """Block until a batch of `points` with `writes` mutations can go out without a throttle."""
        while True:
            with self._lock:
                delay = self._blocked_until - self._clock()
                if self.settings.enabled:
                    delay = max(delay, self._score_delay(points), self._mutation_delay(writes))
                if delay <= 0:
                    if not self.settings.enabled:
                        return
                    self._in_flight_points += points
                    now = self._clock()
                    self._writes.extend([now] * writes)
                    return
                self.waits += 1
                self.seconds_waited += delay
            self._sleep(delay)

    def observe(self, headers: Mapping[str, str], points: int) -> None:
        """A response arrived: its headers now account for the batch's points."""
        usage = _account_usage(headers)
        with self._lock:
            self._in_flight_points = max(0, self._in_flight_points - points)
            if usage is None:
                return
            pct, reset_seconds, tier = usage
            self._pct, self._observed_at = pct, self._clock()
            if pct > 0 and reset_seconds > 0 and pct < 100:
                self._decay_pct_per_s = pct / reset_seconds
            if tier in TIER_MAX_SCORE:
                self._pct_per_point = 100.0 / TIER_MAX_SCORE[tier]

    def capacity_points(self) -> int:
        """The most points one batch may carry: a batch over the account's whole budget is always throttled."""
        with self._lock:
            return max(1, int(self.settings.target_pct / self._pct_per_point)) if self.settings.enabled else 10**9

    def release(self, points: int) -> None:
        """A batch failed without an answer: its points are no longer on the way."""
        with self._lock:
            self._in_flight_points = max(0, self._in_flight_points - points)

    def _score_delay(self, points: int) -> float:
        elapsed = self._clock() - self._observed_at
        now_pct = max(0.0, self._pct - self._decay_pct_per_s * elapsed)
        predicted = now_pct + (self._in_flight_points + points) * self._pct_per_point
        excess = predicted - self.settings.target_pct
        if excess <= 0:
            return 0.0
        if self._in_flight_points == 0 and points * self._pct_per_point > self.settings.target_pct:
            return 0.0  # a single batch larger than the whole budget: waiting cannot make it fit
        return excess / self._decay_pct_per_s

    def _mutation_delay(self, writes: int) -> float:
        cap = self.settings.mutations_per_second
        if not cap or not writes:
            return 0.0
        now = self._clock()
        while self._writes and self._writes[0] <= now - 1.0:
            self._writes.popleft()
        overflow = len(self._writes) + writes - cap
        if overflow <= 0:
            return 0.0
        # the oldest `overflow` writes must leave the one-second window first (all of them when the
        # batch alone is over the cap: it then goes out into an empty window)
        last_to_expire = self._writes[min(overflow, len(self._writes)) - 1] if self._writes else now - 1.0
        return max(0.0, last_to_expire + 1.0 - now)


def _account_usage(headers: Mapping[str, str]) -> tuple[float, float, str | None] | None:
    raw = headers.get("x-ad-account-usage")
    if not raw:
        return None
    try:
        usage: Any = json.loads(raw)
        return float(usage.get("acc_id_util_pct") or 0), float(usage.get("reset_time_duration") or 0), \
            usage.get("ads_api_access_tier")
    except (ValueError, AttributeError, TypeError):
        return None
