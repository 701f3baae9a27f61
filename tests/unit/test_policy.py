"""Notification policy: episodes, digests, new causes, flapping, stateless replay."""

from __future__ import annotations

from collections import Counter

import pytest

from shipper_alert.policy import (
    FIRING,
    KIND_FAILED,
    RESOLVED,
    STILL_FAILING,
    Episode,
    Finding,
    Observation,
    cause_of,
    on_grid,
    replay,
    replay_horizon,
    step,
)

LENGTH = 300
HOUR = 3600
# Windows end one minute after a 5-minute boundary (SETTLE_DELAY 1m), as timer windows do.
FIRST_END = 1795852800 - 60


def observation(index: int, symbol: str) -> Observation:
    """'.' clear, a letter: a breach whose two failed tasks have that letter's cause."""
    end = FIRST_END + index * LENGTH
    if symbol == ".":
        return Observation(end - LENGTH, end, False)
    findings = tuple(
        Finding(KIND_FAILED, f"{symbol}-{index}-{n}", cause_of(symbol, ""), end) for n in range(2)
    )
    return Observation(end - LENGTH, end, True, findings)


def timeline(pattern: str, remind: int = HOUR, notify_resolved: bool = True):
    """Run `step` over the pattern: [(index, state, sent keys)] for each message."""
    episode = None
    messages = []
    for index, symbol in enumerate(pattern):
        decision = step(episode, observation(index, symbol), remind, notify_resolved)
        episode = decision.episode
        if decision.state:
            messages.append((index, decision.state, [f.key for f in decision.send]))
    return messages, episode


def all_keys(pattern: str) -> list[str]:
    keys = []
    for index, symbol in enumerate(pattern):
        keys.extend(f.key for f in observation(index, symbol).findings)
    return keys


def test_two_hour_failure_sends_at_most_four_messages_each_task_once():
    pattern = "A" * 24 + "." * 14  # 2 h breaching, then clear for more than an hour
    messages, episode = timeline(pattern)
    assert episode is None
    # FIRING at once, the digest on the first hour grid an hour later, then RESOLVED
    # carrying what the last hour held: three messages, within the four.
    assert [(i, state) for i, state, _ in messages] == [
        (0, FIRING),
        (13, STILL_FAILING),
        (35, RESOLVED),
    ]
    sent = Counter(key for _, _, keys in messages for key in keys)
    assert sorted(sent) == sorted(all_keys(pattern))
    assert set(sent.values()) == {1}


def test_first_breach_fires_with_that_windows_tasks_only():
    messages, _ = timeline("..A")
    assert messages == [(2, FIRING, ["A-2-0", "A-2-1"])]


def test_digest_falls_on_the_hour_grid_at_least_an_interval_after_the_last_message():
    messages, _ = timeline("A" * 30)
    digests = [index for index, state, _ in messages if state == STILL_FAILING]
    for index in digests:
        seen = observation(index, "A")
        assert on_grid(seen.start, seen.end, HOUR)
    gaps = [b - a for a, b in zip([0, *digests], digests, strict=False)]
    assert all(gap * LENGTH >= HOUR for gap in gaps)


def test_new_cause_notifies_in_its_own_window_carrying_what_was_held():
    messages, _ = timeline("AAAB")
    assert messages[0][:2] == (0, FIRING)
    assert messages[1] == (3, STILL_FAILING, ["A-1-0", "A-1-1", "A-2-0", "A-2-1", "B-3-0", "B-3-1"])


def test_a_cause_already_shown_does_not_notify_again():
    messages, _ = timeline("AABAB")
    assert [index for index, _, _ in messages] == [0, 2]


def test_flapping_stays_one_episode_until_clear_for_a_whole_interval():
    pattern = "A.A..A...A" + "." * 12
    messages, episode = timeline(pattern)
    assert episode is None
    states = [state for _, state, _ in messages]
    assert states.count(FIRING) == 1
    assert states.count(RESOLVED) == 1
    resolved_at = messages[-1][0]
    assert (resolved_at - 9) * LENGTH == HOUR  # clear for exactly one interval
    assert Counter(k for _, _, keys in messages for k in keys) == Counter(all_keys(pattern))


def test_an_episode_whose_grid_windows_happen_to_be_clear_still_sends_a_digest():
    """In trouble every other window, with each grid window clear: the held findings go
    out on the first grid window two intervals after the last message, not hours later."""
    pattern = "A." * 15  # in trouble at even windows; the grid windows 13 and 25 are clear
    messages, _ = timeline(pattern)
    assert [(i, state) for i, state, _ in messages] == [(0, FIRING), (25, STILL_FAILING)]
    assert messages[1][2] == [k for k in all_keys(pattern[:25]) if not k.startswith("A-0-")]


def test_resolved_carries_what_is_still_held():
    messages, _ = timeline("AAA" + "." * 12)
    assert messages[-1] == (14, RESOLVED, ["A-1-0", "A-1-1", "A-2-0", "A-2-1"])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("AA.A..", [(0, FIRING), (1, STILL_FAILING), (2, RESOLVED), (3, FIRING), (4, RESOLVED)]),
        ("A", [(0, FIRING)]),
        ("..", []),
    ],
)
def test_remind_zero_sends_every_breached_window_and_resolves_after_one(pattern, expected):
    messages, _ = timeline(pattern, remind=0)
    assert [(index, state) for index, state, _ in messages] == expected


@pytest.mark.parametrize(
    ("pattern", "last"),
    [
        ("A" + "." * 12, None),  # nothing held: NOTIFY_RESOLVED off sends nothing
        ("AA" + "." * 12, (13, RESOLVED, ["A-1-0", "A-1-1"])),  # held tasks still go out
    ],
)
def test_notify_resolved_off_still_delivers_what_was_held(pattern, last):
    messages, episode = timeline(pattern, notify_resolved=False)
    assert episode is None
    assert (messages[-1] if len(messages) > 1 else None) == last


@pytest.mark.parametrize(
    ("code", "message", "cause"),
    [
        ("UnAuthorized", "task 123 failed", "code:UnAuthorized"),
        # The one masking of causes.cause_key, which the messages' cause summary uses too.
        (None, "bucket 1234 gone, req 5f3a9b2c11aa22bb", "message:bucket {n} gone, req {id}"),
        (None, "  InvalidOssBucket ", "message:InvalidOssBucket"),
    ],
)
def test_cause_is_the_code_else_the_masked_message(code, message, cause):
    assert cause_of(code, message) == cause


def test_messages_that_differ_only_in_numbers_are_one_cause():
    assert cause_of(None, "write 500 rows to part 17") == cause_of(None, "write 9 rows to part 3")


def test_replays_from_different_starts_agree_once_past_the_horizon():
    pattern = "A" * 40 + "." * 3 + "AAB" + "A" * 30 + "." * 14
    horizon = replay_horizon(HOUR, LENGTH)
    full, _ = timeline(pattern)
    sent_at = {index: state for index, state, _ in full}
    for index in range(horizon, len(pattern)):
        observations = [observation(i, pattern[i]) for i in range(index - horizon, index + 1)]
        decision = replay(observations, HOUR)
        assert decision.state == sent_at.get(index), index


def test_replay_horizon_covers_three_intervals():
    """A digest carries what was held since two intervals before it, at most."""
    assert replay_horizon(HOUR, LENGTH) == 37
    assert replay_horizon(0, LENGTH) == 1


def test_episode_round_trips_through_json():
    episode = Episode(10, 20, 30, frozenset({"code:X"}), (Finding(KIND_FAILED, "t", "code:X", 30),))
    assert Episode.from_json(episode.to_json()) == episode


def test_the_readme_timeline():
    """README "Notification policy": 09:59 FIRING ... 12:39 RESOLVED, 4 messages."""
    end_0959 = 1795852800 + 3600 * 2 - 60  # 09:59 UTC on the test day
    episode = None
    sent = []
    for k in range(40):
        end = end_0959 + k * LENGTH
        findings = []
        if end <= end_0959 + 100 * 60:  # failures through the 11:39 window
            findings = [Finding(KIND_FAILED, f"t{k}-{i}", "code:UnAuthorized", end) for i in (0, 1)]
            if k == 18:  # 11:29
                findings.append(Finding(KIND_FAILED, "b", "code:InvalidOssBucket", end))
        decision = step(
            episode, Observation(end - LENGTH, end, bool(findings), tuple(findings)), HOUR
        )
        episode = decision.episode
        if decision.state:
            sent.append((k, decision.state, len(decision.send)))
    assert sent == [
        (0, FIRING, 2),
        (13, STILL_FAILING, 26),
        (18, STILL_FAILING, 11),
        (32, RESOLVED, 4),
    ]
