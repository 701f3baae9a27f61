import pytest

from shipper_alert.budget import Deadline
from shipper_alert.retry import Backoff, next_delay

BACKOFF = Backoff(base=0.5, cap=8.0, max_attempts=6, min_attempt_time=1.0)


def upper(low, high):
    return high


def deadline(seconds):
    return Deadline(seconds, clock=lambda: 0.0)


@pytest.mark.parametrize(
    ("attempt", "left", "hint", "expected"),
    [
        (1, 100.0, None, 0.5),  # base after the first failure
        (2, 100.0, None, 1.0),  # doubled
        (4, 100.0, None, 4.0),
        (5, 100.0, None, 8.0),  # capped
        (6, 100.0, None, None),  # that was the last attempt allowed
        (1, 100.0, 30.0, 30.0),  # the server's hint wins when longer
        (5, 100.0, 3.0, 8.0),  # ... and is only a floor
        (1, 1.5, None, 0.5),  # 1.0 s left after the wait: just enough
        (2, 1.9, None, None),  # 0.9 s left after the wait: too little
        (1, 20.0, 30.0, None),  # the hint passes the deadline
        (1, 0.0, None, None),  # deadline spent
    ],
)
def test_next_delay(attempt, left, hint, expected):
    assert next_delay(attempt, deadline(left), hint, backoff=BACKOFF, rng=upper) == expected


def test_the_wait_is_full_jitter_between_zero_and_the_exponential_bound():
    bounds = []

    def record(low, high):
        bounds.append((low, high))
        return low

    assert next_delay(3, deadline(100.0), backoff=BACKOFF, rng=record) == 0.0
    assert bounds == [(0.0, 2.0)]


def test_a_huge_attempt_count_stays_at_the_cap():
    backoff = Backoff(base=1.0, cap=30.0, max_attempts=10_000)
    assert next_delay(5_000, deadline(100.0), backoff=backoff, rng=upper) == 30.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base": 1.0, "cap": 2.0, "max_attempts": 0}, "max_attempts must be at least 1, not 0"),
        (
            {"base": -1.0, "cap": 2.0, "max_attempts": 3},
            "back-off delays must not be negative (-1.0, 2.0)",
        ),
    ],
)
def test_bad_backoff_is_refused(kwargs, message):
    with pytest.raises(ValueError, match="must") as excinfo:
        Backoff(**kwargs)
    assert str(excinfo.value) == message
