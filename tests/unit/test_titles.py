"""Titles, push lines and footers: one wording, label and target in every one."""

from __future__ import annotations

import pytest

from shipper_alert.titles import (
    FIRING,
    MONITOR_ERROR,
    RESOLVED,
    STILL_FAILING,
    CauseCount,
    default_label,
    essentials,
    footer,
    headline_state,
    title,
)


@pytest.mark.parametrize(
    ("state", "targets", "expected"),
    [
        (FIRING, ["proj-a/nginx/oss-archive"], "[prod-hz] FIRING: proj-a/nginx/oss-archive"),
        (STILL_FAILING, ["p/l/a", "p/l/b"], "[prod-hz] STILL FAILING: p/l/a and 1 more"),
        (RESOLVED, ["p/l/a", "p/l/b", "p/l/c"], "[prod-hz] RESOLVED: p/l/a and 2 more"),
        (MONITOR_ERROR, ["proj-b/*/*"], "[prod-hz] MONITOR ERROR: proj-b/*/*"),
    ],
)
def test_title_names_label_state_and_target(state, targets, expected):
    assert title("prod-hz", state, targets) == expected


@pytest.mark.parametrize(
    ("targets", "state", "error"),
    [
        ([], FIRING, "a title needs at least one target"),
        (["p/l/s"], "FIRE", "unknown state 'FIRE'"),
    ],
)
def test_title_rejects_bad_input_by_name(targets, state, error):
    with pytest.raises(ValueError, match=error):
        title("x", state, targets)


@pytest.mark.parametrize(
    ("states", "headline"),
    [
        ([RESOLVED, FIRING], FIRING),
        ([STILL_FAILING, MONITOR_ERROR], MONITOR_ERROR),
        ([RESOLVED, STILL_FAILING], STILL_FAILING),
        ([RESOLVED], RESOLVED),
    ],
)
def test_headline_state_is_the_most_urgent(states, headline):
    assert headline_state(states) == headline


@pytest.mark.parametrize(
    ("name", "region", "label"),
    [
        ("shipper-alert-prod", "cn-hangzhou", "shipper-alert-prod (cn-hangzhou)"),
        ("fn", None, "fn"),
        (None, None, "shipper-alert"),
    ],
)
def test_default_label(name, region, label):
    assert default_label(name, region) == label


CAUSES = [
    CauseCount("UnAuthorized", 200),
    CauseCount("InvalidOssBucket", 50),
    CauseCount("disk {n} full", 30),
    CauseCount("InternalServerError", 120),
]


def test_essentials_with_room_for_every_cause():
    line = essentials(
        "prod-hz", FIRING, ["proj-a/nginx/oss-archive"], failed=400, causes=CAUSES, max_chars=300
    )
    assert line == (
        "[prod-hz] FIRING: proj-a/nginx/oss-archive — 400 failed tasks · UnAuthorized ×200, "
        "InvalidOssBucket ×50, disk {n} full ×30, InternalServerError ×120"
    )


def test_essentials_cut_counts_the_causes_left_out():
    line = essentials(
        "prod-hz", FIRING, ["proj-a/nginx/oss-archive"], failed=400, causes=CAUSES, max_chars=100
    )
    assert line == (
        "[prod-hz] FIRING: proj-a/nginx/oss-archive — 400 failed tasks · UnAuthorized ×200, "
        "+3 more causes"
    )
    assert len(line) <= 100


def test_essentials_keeps_title_and_counts_when_no_cause_fits():
    line = essentials("prod-hz", FIRING, ["p/l/s"], failed=1, stuck=2, causes=CAUSES, max_chars=40)
    assert line == "[prod-hz] FIRING: p/l/s — 1 failed task, 2 stuck tasks"


def test_essentials_cuts_only_a_title_longer_than_the_limit():
    line = essentials("a-very-long-label", FIRING, ["project/logstore/shipper"], max_chars=20)
    assert line == "[a-very-long-label]…"


def test_essentials_has_no_nested_parentheses():
    line = essentials(
        "l", MONITOR_ERROR, ["p/l/a", "p/l/b"], unreadable=2, stalled=1, causes=CAUSES
    )
    assert "(" not in line
    assert line.startswith("[l] MONITOR ERROR: p/l/a and 1 more — 1 stalled shipper, 2 unread")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            ("shipper-alert", "1234567890", "cn-hangzhou", "1-abc"),
            "function shipper-alert · account 1234567890 · region cn-hangzhou · request 1-abc",
        ),
        ((None, None, "cn-hangzhou", None), "region cn-hangzhou"),
        ((None, None, None, None), "run locally"),
    ],
)
def test_footer(values, expected):
    assert footer(*values) == expected


def test_essentials_takes_the_causes_of_group_causes():
    from tests.factories import failed  # noqa: PLC0415

    from shipper_alert.causes import group_causes  # noqa: PLC0415

    causes = group_causes({"p/l/s": [failed("a"), failed("b", "internal", "InternalServerError")]})
    line = essentials("x", FIRING, ["p/l/s"], failed=2, causes=causes)
    assert line == "[x] FIRING: p/l/s — 2 failed tasks · UnAuthorized ×1, InternalServerError ×1"


def test_essentials_cuts_a_long_cause_to_forty_characters():
    long = CauseCount("write to bucket {id} failed because the object " * 3, 7)
    line = essentials("x", FIRING, ["p/l/s"], failed=7, causes=[long], max_chars=200)
    assert line == (
        "[x] FIRING: p/l/s — 7 failed tasks · write to bucket {id} failed because the… ×7"
    )
