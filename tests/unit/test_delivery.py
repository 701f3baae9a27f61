"""The delivery stage: retry policy, the deadline, fan-out isolation, partial deliveries."""

from __future__ import annotations

import pytest

from shipper_alert.budget import Deadline
from shipper_alert.notify.base import DeliveryFailure, Notifier, Outgoing
from shipper_alert.notify.delivery import DeliveryResult, RetryPolicy, deliver_all


class Script(Notifier):
    """A channel whose sends follow a script: None delivers, an exception is raised."""

    def __init__(self, name, *outcomes):
        self.name = name
        self.outcomes = list(outcomes)
        self.sent = []
        self.timeouts = []

    def build(self, report, renderer):
        raise NotImplementedError

    def send(self, outgoing, timeout):
        self.timeouts.append(timeout)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append(outgoing.title)


def message(title="m"):
    return Outgoing("test", title, "text", {})


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def deliver(plan, seconds=60.0, policy=None, clock=None):
    clock = clock or Clock()
    policy = policy or RetryPolicy()
    return deliver_all(
        plan, Deadline(seconds, clock), policy, sleep=clock.sleep, rng=lambda a, b: b
    ), clock


RETRY = DeliveryFailure("busy", retryable=True)
FATAL = DeliveryFailure("token gone", retryable=False)


def test_a_retryable_failure_is_retried_with_growing_delays_until_delivered():
    channel = Script("c", RETRY, RETRY, None)
    (result,), clock = deliver([(channel, [message()])])
    assert result == DeliveryResult("c", True, 3, None)
    assert clock.sleeps == [1.0, 2.0]  # base 1 s, doubled (full jitter at its maximum here)
    assert channel.sent == ["m"]


def test_retry_after_from_the_service_is_honoured_when_longer():
    channel = Script("c", DeliveryFailure("429", retryable=True, retry_after=7.5), None)
    _, clock = deliver([(channel, [message()])])
    assert clock.sleeps == [7.5]


def test_a_permanent_failure_is_tried_once():
    (result,), clock = deliver([(Script("c", FATAL), [message()])])
    assert result == DeliveryResult("c", False, 1, "token gone")
    assert clock.sleeps == []


def test_attempts_stop_at_the_policy_maximum():
    channel = Script("c", *[RETRY] * 10)
    (result,), _ = deliver([(channel, [message()])], policy=RetryPolicy(max_attempts=3))
    assert (result.delivered, result.attempts, result.error) == (False, 3, "busy")


def test_no_retry_is_started_that_the_deadline_cannot_hold():
    channel = Script("c", DeliveryFailure("429", retryable=True, retry_after=30), None)
    (result,), clock = deliver([(channel, [message()])], seconds=20)
    assert (result.delivered, result.attempts) == (False, 1)
    assert clock.sleeps == []


def test_each_attempt_gets_at_most_the_time_left():
    channel = Script("c", None)
    deliver([(channel, [message()])], seconds=4.0)
    assert channel.timeouts == [4.0]


def test_an_unexpected_error_fails_only_its_channel():
    broken = Script("broken", KeyError("boom"))
    fine = Script("fine", None)
    (bad, good), _ = deliver([(broken, [message()]), (fine, [message()])])
    assert (bad.delivered, bad.attempts, bad.error) == (False, 1, "KeyError: 'boom'")
    assert good.delivered is True


def test_a_split_message_failing_after_its_first_part_is_partial():
    channel = Script("c", None, FATAL)
    (result,), _ = deliver([(channel, [message("part 1"), message("part 2")])])
    assert result == DeliveryResult(
        "c", False, 2, "message 2/2: token gone", messages=2, partial=True
    )
    assert channel.sent == ["part 1"]


def test_a_failure_that_says_some_of_it_went_out_is_partial():
    channel = Script(
        "c", DeliveryFailure("1 of 2 recipients refused", retryable=False, partial=True)
    )
    (result,), _ = deliver([(channel, [message()])])
    assert result.partial is True
    assert result.to_json() == {
        "channel": "c",
        "delivered": False,
        "attempts": 1,
        "error": "1 of 2 recipients refused",
        "partial": True,
    }


@pytest.mark.parametrize("seconds", [0.0, 0.5])
def test_with_no_time_left_nothing_is_attempted(seconds):
    channel = Script("c", None)
    (result,), _ = deliver([(channel, [message()])], seconds=seconds)
    assert (result.delivered, result.attempts) == (False, 0)
    assert result.error == "no time left in the invocation to send"
