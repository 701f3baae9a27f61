"""Delivery: every channel in parallel, each message retried with back-off in the budget.

The policy lives here once, for all channels (contract, "Delivery"):
- a channel's `send` raises `DeliveryFailure(retryable=...)`; retryable failures (rate
  limits, 5xx, timeouts, SMTP 4xx) are tried again after a full-jitter exponential delay,
  or after the channel's `retry_after` (HTTP Retry-After, DingTalk's rate window) when
  that is longer, as long as the invocation's deadline leaves room for another attempt;
- anything else a channel raises is a permanent failure of that channel only;
- one channel failing never stops the others: each runs in its own thread.
Errors in the results are scrubbed of every registered secret.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shipper_alert.budget import Deadline
from shipper_alert.notify.base import DeliveryFailure, Notifier, Outgoing
from shipper_alert.redact import SecretScrubber
from shipper_alert.retry import Backoff, next_delay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    attempt_timeout: float = 10.0  # connect + read, per attempt
    min_attempt_time: float = 1.0  # do not start an attempt with less time than this left


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    delivered: bool
    attempts: int
    error: str | None
    messages: int = 1
    # Not delivered, yet something went out (some parts or some recipients).
    partial: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "error": self.error,
            "partial": self.partial,
        }


def _deliver_channel(
    notifier: Notifier,
    messages: Sequence[Outgoing],
    deadline: Deadline,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    rng: Callable[[float, float], float],
) -> DeliveryResult:
    attempts = 0
    for index, message in enumerate(messages, start=1):
        failure: DeliveryFailure | None = None
        for attempt in range(policy.max_attempts):
            remaining = deadline.remaining()
            if remaining < policy.min_attempt_time:
                failure = failure or DeliveryFailure(
                    "no time left in the invocation to send", retryable=True
                )
                break
            attempts += 1
            try:
                notifier.send(message, min(policy.attempt_timeout, remaining))
            except DeliveryFailure as exc:
                failure = exc
            except Exception as exc:  # a bug or an unforeseen library error: this channel only
                log.exception("%s: unexpected error while sending", notifier.name)
                failure = DeliveryFailure(f"{type(exc).__name__}: {exc}", retryable=False)
            else:
                failure = None
                log.info("%s: message %d/%d delivered", notifier.name, index, len(messages))
                break
            if not failure.retryable:
                break
            backoff = Backoff(
                policy.base_delay, policy.max_delay, policy.max_attempts, policy.min_attempt_time
            )
            delay = next_delay(attempt + 1, deadline, failure.retry_after, backoff=backoff, rng=rng)
            if delay is None:
                log.warning(
                    "%s: not retrying (%s): attempts or time used up",
                    notifier.name,
                    SecretScrubber.scrub(failure.detail),
                )
                break
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.1fs",
                notifier.name,
                attempt + 1,
                SecretScrubber.scrub(failure.detail),
                delay,
            )
            sleep(delay)
        if failure is not None:
            error = SecretScrubber.scrub(failure.detail)
            if len(messages) > 1:
                error = f"message {index}/{len(messages)}: {error}"
            partial = index > 1 or failure.partial
            log.error(
                "%s: not delivered%s: %s", notifier.name, " in full" if partial else "", error
            )
            return DeliveryResult(notifier.name, False, attempts, error, len(messages), partial)
    return DeliveryResult(notifier.name, True, attempts, None, len(messages))


def deliver_all(
    plan: Sequence[tuple[Notifier, Sequence[Outgoing]]],
    deadline: Deadline,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[float, float], float] = random.uniform,
) -> list[DeliveryResult]:
    """Send each channel's messages, all channels at once; one result per channel."""
    if not plan:
        return []
    with ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="notify") as pool:
        futures = [
            pool.submit(_deliver_channel, notifier, messages, deadline, policy, sleep, rng)
            for notifier, messages in plan
        ]
        return [future.result() for future in futures]
