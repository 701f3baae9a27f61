"""The one retry decision, shared by SLS reads and deliveries: wait how long, or give up.

Full-jitter exponential back-off spreads the retries of many concurrent shippers and
channels instead of synchronising them
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/); a server's
own hint (HTTP Retry-After, DingTalk's rate window) is a floor under it; and no retry is
planned whose wait would leave the invocation too little time for the attempt itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from shipper_alert.budget import Deadline


@dataclass(frozen=True)
class Backoff:
    """How a caller retries: delays from `base` doubling up to `cap`, at most `max_attempts`."""

    base: float
    cap: float
    max_attempts: int
    # Do not plan a retry unless this much of the deadline is left once the wait is over.
    min_attempt_time: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.base < 0 or self.cap < 0:
            raise ValueError(f"back-off delays must not be negative ({self.base}, {self.cap})")


def next_delay(
    attempt: int,
    deadline: Deadline,
    hint: float | None = None,
    *,
    backoff: Backoff,
    rng: Callable[[float, float], float] = random.uniform,
) -> float | None:
    """Seconds to wait after `attempt` (counted from 1) failed, or None to give up now.

    The wait is uniform in [0, min(cap, base * 2**(attempt - 1))], raised to `hint` when
    the server asked for longer. None when `attempt` was the last one allowed, or when
    after the wait less than `min_attempt_time` of the deadline would be left.
    """
    if attempt >= backoff.max_attempts:
        return None
    # The exponent is bounded so that a large attempt count cannot overflow a float.
    delay = rng(0.0, min(backoff.cap, backoff.base * 2 ** min(attempt - 1, 64)))
    if hint is not None and hint > delay:
        delay = hint
    if deadline.remaining() - delay < backoff.min_attempt_time:
        return None
    return delay
