"""The time an invocation has left.

FC kills an invocation at `context.function.timeout` seconds; every retry loop (SLS reads,
deliveries, through `shipper_alert.retry`) asks a `Deadline` how long it may still wait, so
that a slow dependency costs retries, not the whole invocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Deadline:
    """An instant on a monotonic clock after which no new attempt should start."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._at - self._clock())

    def sub(self, fraction: float) -> Deadline:
        """A deadline that ends after `fraction` of the time this one has left."""
        return Deadline(self.remaining() * fraction, self._clock)
