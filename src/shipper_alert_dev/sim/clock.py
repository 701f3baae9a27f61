"""Clocks for the local SLS simulator.

The simulator asks its clock for "now" whenever it checks the 48-hour query limit, the
15-minute `Date` skew, which tasks exist yet, which scripted state changes have happened
and when a retried task finishes. Tests pass a `SimClock` and move it by hand, so a whole
day of task history can be walked through without waiting; the command line uses a ticking
clock, optionally started at another instant.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything with `now()` in epoch seconds can drive the simulator."""

    def now(self) -> float: ...


class RealClock:
    """The machine's wall clock: the simulator's default."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "RealClock()"


class SimClock:
    """A clock the caller controls.

    `SimClock()` starts at the current real time, `SimClock(1764316800)` at a given
    instant. By default it stands still until `set()` or `advance()` moves it; with
    `ticking=True` it also runs forward at real speed from wherever it was last put (used by
    `python -m shipper_alert sim --now ...`). Safe to use from several threads.
    """

    def __init__(self, start: float | None = None, *, ticking: bool = False) -> None:
        self._lock = threading.Lock()
        self._ticking = ticking
        self._base = time.time() if start is None else float(start)
        self._base_monotonic = time.monotonic()

    @property
    def ticking(self) -> bool:
        return self._ticking

    def now(self) -> float:
        with self._lock:
            if self._ticking:
                return self._base + (time.monotonic() - self._base_monotonic)
            return self._base

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._base = float(epoch_seconds)
            self._base_monotonic = time.monotonic()

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, with a negative amount); return the new now."""
        with self._lock:
            if self._ticking:
                current = self._base + (time.monotonic() - self._base_monotonic)
                self._base_monotonic = time.monotonic()
            else:
                current = self._base
            self._base = current + seconds
            return self._base

    def __repr__(self) -> str:
        return f"SimClock({self.now():.0f}, ticking={self._ticking})"
