import itertools
import json

import pytest

from shipper_alert.config import Rules
from shipper_alert.errors import EventError
from shipper_alert.events import EventSpec, decode_event, resolve_window, timer_window
from shipper_alert.models import ShipperRef, Window

RULES = Rules(check_interval=300, settle_delay=60)
T0800 = 1795852800  # 2026-11-28T08:00:00Z
NOW = T0800 + 3600  # 2026-11-28T09:00:00Z


def timer(trigger="2026-11-28T08:05:00Z", payload=None):
    event = {"triggerTime": trigger, "triggerName": "every-5m"}
    if payload is not None:
        event["payload"] = payload
    return json.dumps(event).encode()


def window_of(raw, now=NOW, rules=RULES):
    return resolve_window(decode_event(raw), rules, now)


def test_timer_window_ends_settle_delay_before_the_aligned_trigger():
    # triggered 08:05:00 -> [07:59:00, 08:04:00)
    assert window_of(timer()) == Window(T0800 - 60, T0800 + 240)


def test_late_and_repeated_triggers_check_the_same_window():
    on_time = window_of(timer("2026-11-28T08:05:00Z"))
    assert window_of(timer("2026-11-28T08:05:07Z")) == on_time
    assert window_of(timer("2026-11-28T08:09:49Z")) == on_time
    assert window_of(timer("2026-11-28T08:10:00Z")) == Window(on_time.end, on_time.end + 300)


@pytest.mark.parametrize(
    ("trigger", "end"),
    [
        ("2026-11-28T08:09:50Z", T0800 + 540),  # 10 s early: the 08:10 boundary
        ("2026-11-28T08:09:59Z", T0800 + 540),  # 1 s early
        ("2026-11-28T08:09:49Z", T0800 + 240),  # 11 s early: a late 08:05 trigger
    ],
)
def test_a_trigger_up_to_ten_seconds_early_counts_as_the_boundary(trigger, end):
    assert window_of(timer(trigger)) == Window(end - 300, end)


def test_early_tolerance_is_a_tenth_of_a_short_interval():
    rules = Rules(check_interval=60, settle_delay=0)
    assert timer_window(T0800 - 6, rules) == Window(T0800 - 60, T0800)
    assert timer_window(T0800 - 7, rules) == Window(T0800 - 120, T0800 - 60)


def test_an_early_trigger_with_no_settle_delay_is_not_a_future_window():
    rules = Rules(check_interval=300, settle_delay=0)
    assert window_of(timer("2026-11-28T08:09:55Z"), now=T0800 + 595, rules=rules) == Window(
        T0800 + 300, T0800 + 600
    )


def test_consecutive_timer_windows_tile_time():
    windows = [timer_window(T0800 + i * 300 + (i * 7) % 60, RULES) for i in range(300)]
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start
        assert after.length == 300


def test_timer_payload_json_object_acts_as_a_manual_event():
    spec = decode_event(timer(payload='{"dryRun": true, "shippers": ["proj-a/ls/sh"]}'))
    assert spec.kind == "timer"
    assert spec.dry_run is True
    assert spec.shippers == (ShipperRef("proj-a", "ls", "sh"),)
    payload = json.dumps({"from": T0800, "to": T0800 + 300})
    assert window_of(timer(payload=payload)) == Window(T0800, T0800 + 300)


def test_timer_payload_free_text_is_ignored():
    assert decode_event(timer(payload="awesome-fc")) == EventSpec(
        kind="timer", trigger_time=T0800 + 300, trigger_name="every-5m"
    )


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            '{"dryRun": tru}',
            "the timer payload is not JSON (Expecting value: line 1 column 12 (char 11)): "
            "'{\"dryRun\": tru}'",
        ),
        (
            '{"dry_run": true}',
            "the timer payload has unknown key(s) 'dry_run'; "
            "a manual event takes from, to, dryRun, shippers",
        ),
        ('{"dryRun": "yes"}', "the timer payload 'dryRun' must be true or false, not a string"),
        ("[1]", None),  # free text as far as we can tell: ignored
    ],
)
def test_timer_payload_that_looks_like_json_must_be_valid(payload, problem):
    if problem is None:
        assert decode_event(timer(payload=payload)).dry_run is None
        return
    with pytest.raises(EventError) as caught:
        decode_event(timer(payload=payload))
    assert caught.value.problem == problem


def test_empty_event_is_a_manual_check_of_the_latest_window():
    for raw in (b"", b"  \n", None, b"{}"):
        assert window_of(raw) == Window(NOW - 60 - 300, NOW - 60)


def test_manual_from_and_to_accept_epoch_and_iso():
    assert window_of(f'{{"from": {T0800}, "to": "2026-11-28T08:30:00Z"}}'.encode()) == Window(
        T0800, T0800 + 1800
    )
    raw = f'{{"from": "2026-11-28T16:00:00+08:00", "to": "{T0800 + 300}"}}'.encode()
    assert window_of(raw) == Window(T0800, T0800 + 300)
    assert window_of(b'{"from": "2026-11-28T08:00:00"}') == Window(T0800, NOW - 60)  # naive = UTC
    assert window_of(f'{{"to": {T0800 + 300}.9}}'.encode()) == Window(T0800, T0800 + 300)
    assert window_of({"from": T0800, "to": T0800 + 300}) == Window(T0800, T0800 + 300)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            b"not json",
            "the event is not JSON (Expecting value: line 1 column 1 (char 0)): 'not json'",
        ),
        (b"\xff\xfe", "the event is not JSON"),
        (b"[1, 2]", "the event must be a JSON object, not a list"),
        (b"null", "the event must be a JSON object, not null"),
        (
            b'{"key1": "value1"}',
            "the event has unknown key(s) 'key1'; a manual event takes from, to, dryRun, shippers",
        ),
        (
            b'{"from": true}',
            "the event 'from' must be epoch seconds or an ISO-8601 time, not a boolean",
        ),
        (
            b'{"from": "yesterday"}',
            "the event 'from' 'yesterday' is neither epoch seconds nor an ISO-8601 time "
            "(e.g. 2026-11-28T08:05:00Z)",
        ),
        (b'{"to": -5}', "the event 'to' -5 is not a valid epoch time"),
        (b'{"dryRun": 1}', "the event 'dryRun' must be true or false, not a number"),
        (
            b'{"shippers": "p/l/s"}',
            "the event 'shippers' must be a non-empty list of \"project/logstore/shipper\"",
        ),
        (
            b'{"shippers": []}',
            "the event 'shippers' must be a non-empty list of \"project/logstore/shipper\"",
        ),
        (b'{"shippers": [3]}', "the event 'shippers'[0] must be a string, not a number"),
        (
            b'{"shippers": ["proj-a/l"]}',
            "the event 'shippers'[0]: 'proj-a/l' is not project/logstore/shipper",
        ),
        (b'{"triggerTime": 5}', "'triggerTime' must be an ISO-8601 string, not a number"),
        (
            b'{"triggerTime": "soon"}',
            "'triggerTime' 'soon' is neither epoch seconds nor an ISO-8601 time (e.g. 2026-11-28T08:05:00Z)",
        ),
        (
            b'{"triggerTime": "2026-11-28T08:05:00Z", "payload": 3}',
            "the timer 'payload' must be a string, not a number",
        ),
    ],
)
def test_bad_events_name_the_problem(raw, problem):
    with pytest.raises(EventError) as caught:
        decode_event(raw)
    assert caught.value.problem.startswith(problem)
    assert str(caught.value) == f"invalid event: {caught.value.problem}"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            {"from": T0800 + 300, "to": T0800 + 300},
            "'from' (2026-11-28T08:05:00Z) must be before 'to' (2026-11-28T08:05:00Z)",
        ),
        (
            {"from": T0800, "to": T0800 - 3600},
            "'from' (2026-11-28T08:00:00Z) must be before 'to' (2026-11-28T07:00:00Z)",
        ),
        (
            {"to": NOW + 120},
            "the window [2026-11-28T08:57:00Z, 2026-11-28T09:02:00Z) ends in the future "
            "(now is 2026-11-28T09:00:00Z)",
        ),
        (
            {"from": NOW - 47 * 3600 - 1, "to": NOW - 46 * 3600},
            "the window [2026-11-26T09:59:59Z, 2026-11-26T11:00:00Z) starts more than 47 hours "
            "ago; GetShipperStatus serves only the last 48 hours",
        ),
        (
            timer("2026-11-26T10:00:00Z"),
            "the window [2026-11-26T09:54:00Z, 2026-11-26T09:59:00Z) starts more than 47 hours ago",
        ),
        (
            timer("2026-11-28T10:05:00Z"),
            "the window [2026-11-28T09:59:00Z, 2026-11-28T10:04:00Z) ends in the future "
            "(now is 2026-11-28T09:00:00Z)",
        ),
    ],
)
def test_bad_windows_name_the_problem(raw, problem):
    with pytest.raises(EventError) as caught:
        window_of(raw)
    assert caught.value.problem.startswith(problem)


def test_a_window_of_exactly_47_hours_ago_is_accepted():
    assert window_of({"from": NOW - 47 * 3600, "to": NOW - 46 * 3600}) == Window(
        NOW - 47 * 3600, NOW - 46 * 3600
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            b'{"from": 1795852800000}',
            "the event 'from' 1795852800000 looks like milliseconds; epoch seconds are wanted"
            " (1795852800?)",
        ),
        (
            b'{"to": "1795852800000"}',
            "the event 'to' '1795852800000' looks like milliseconds; epoch seconds are wanted"
            " (1795852800?)",
        ),
        (
            b'{"from": 1e300}',
            "the event 'from' 1e+300 is not a valid epoch time (after the year 9999)",
        ),
        (
            b'{"from": "1e300"}',
            "the event 'from' '1e300' is not a valid epoch time (after the year 9999)",
        ),
        (b'{"from": -5}', "the event 'from' -5 is not a valid epoch time"),
        (
            b'{"shippers": [[[[[[[["x"]]]]]]]]}',
            "the event is not JSON (nested more than 8 levels deep): "
            '\'{"shippers": [[[[[[[["x"]]]]]]]]}\'',
        ),
        (
            b"[" * 5000 + b"]" * 5000,
            "the event is not JSON (nested more than 8 levels deep): '" + "[" * 77 + "...'",
        ),
    ],
)
def test_values_that_can_never_work_are_named_errors(raw, problem):
    with pytest.raises(EventError) as caught:
        window_of(raw)
    assert caught.value.problem == problem
