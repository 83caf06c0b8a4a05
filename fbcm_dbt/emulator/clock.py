"""The emulator's own clock.

Every time-dependent rule (score decay, blocks, the 4-budget-changes-per-hour
window, mutation-per-second cap, ``updated_time``) reads this clock instead of
``time.time()`` so that

* a benchmark can compress time (``time_scale=100`` makes 300 emulated seconds
  pass in 3 real seconds), and
* a test can jump over an hour-long window with ``advance(3600)`` instead of
  sleeping.

emulated_seconds = (monotonic() - t0) * time_scale + manual_offset
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Monotonic emulated clock, plus an emulated wall clock for timestamps."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._scale = float(time_scale)
        self._offset = 0.0
        # Wall time at emulated second 0; timestamps shown to clients are
        # wall0 + now(), so advancing the clock moves them forward too.
        self._wall0 = time.time()

    @property
    def time_scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """Emulated seconds since the clock was created (monotonic)."""
        return (time.monotonic() - self._t0) * self._scale + self._offset

    def wall(self) -> float:
        """Emulated UNIX time (used for created/updated/end times)."""
        return self._wall0 + self.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backwards: the limits assume monotonic time)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def set_time_scale(self, time_scale: float) -> None:
        """Change the speed without a jump: rebase so now() is continuous."""
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        with self._lock:
            current = self.now()
            self._t0 = time.monotonic()
            self._offset = current
            self._scale = float(time_scale)
