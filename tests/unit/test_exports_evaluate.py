"""exports_evaluate: status episodes and metric findings, table-driven."""

from __future__ import annotations

import pytest

from shipper_alert.exports_evaluate import (
    TRANSITION_GRACE,
    ConnectorError,
    metrics_verdict,
    status_finding,
)
from shipper_alert.models import Window
from shipper_alert.sls.exports import ExportJob, MetricGroup

HOUR = 3600
WINDOW = Window(100 * HOUR, 100 * HOUR + 300)
REMIND = HOUR


def job(status: str = "RUNNING", modified: int | None = None, to_time: int = 0) -> ExportJob:
    return ExportJob("p", "job-a", "oss", "app-log", status, modified, "", to_time)


@pytest.mark.parametrize(
    ("status", "modified", "to_time", "expected"),
    [
        ("RUNNING", WINDOW.start - 10, 0, None),
        ("SUCCEEDED", WINDOW.start - 10, 5, None),  # a bounded job that finished
        ("SUCCEEDED", WINDOW.start + 10, 0, (WINDOW.start + 10, False)),  # unbounded: not healthy
        ("STOPPED", WINDOW.start + 10, 0, (WINDOW.start + 10, False)),  # first notice
        ("STOPPED", WINDOW.start - 10, 0, None),  # noticed in the window before
        ("STOPPED", WINDOW.start - REMIND + 60, 0, (WINDOW.start + 60, True)),  # reminder
        ("STOPPED", WINDOW.end + 10, 0, (WINDOW.start, True)),  # since in the future: unknown
        ("FAILED", None, 0, (WINDOW.start, True)),  # unknown since: multiples of the interval
        ("STARTING", WINDOW.start + 10, 0, None),  # transitional, within the grace
        ("RESTARTING", WINDOW.start - TRANSITION_GRACE + 20, 0, (WINDOW.start + 20, False)),
        ("PAUSED", WINDOW.start + 30, 0, (WINDOW.start + 30, False)),  # unknown value
    ],
)
def test_status_finding(status, modified, to_time, expected):
    found = status_finding(job(status, modified, to_time), WINDOW, REMIND)

    if expected is None:
        assert found is None
    else:
        assert (found.due_time, found.reminder) == expected
        assert found.status == status
        assert found.known is (status != "PAUSED")


def test_status_with_no_remind_interval_repeats_every_window():
    found = status_finding(job("STOPPED", WINDOW.start - 5 * HOUR), WINDOW, 0)

    assert found is not None
    assert found.due_time == WINDOW.start


def group(**fields) -> MetricGroup:
    values = {
        "project": "p",
        "job": "job-a",
        "action": "deliver",
        "state": 0,
        "error": None,
        "rows": 5,
        "failed": 0,
        "lag_min": None,
        "lag_max": None,
        "last_time": WINDOW.start + 60,
    }
    return MetricGroup(**{**values, **fields})


HEALTHY = [group(action="ingest", lag_min=0.5, lag_max=2.0), group()]


@pytest.mark.parametrize(
    ("groups", "breached", "failed", "lag", "errors"),
    [
        (HEALTHY, False, 0, 0.5, ()),
        ([], False, 0, None, ()),  # idle source: no rows, no finding
        (
            [*HEALTHY, group(state=2, error="denied", rows=3), group(state=1, error="denied")],
            True,
            0,
            0.5,
            (ConnectorError("denied", 2, 8, WINDOW.start + 60),),
        ),
        (
            [*HEALTHY, group(state=1, rows=2)],
            True,
            0,
            0.5,
            (ConnectorError(None, 1, 2, WINDOW.start + 60),),
        ),
        ([*HEALTHY, group(failed=1)], True, 1, 0.5, ()),  # threshold 1
        ([group(action="ingest", lag_min=300.0, lag_max=900.0)], True, 0, 300.0, ()),
        ([group(action="ingest", lag_min=299.0, lag_max=900.0)], False, 0, 299.0, ()),
        ([group(job="other", state=2, failed=9)], False, 0, None, ()),  # another job's rows
        ([group(project="q", state=2, failed=9)], False, 0, None, ()),  # another project's job
    ],
)
def test_metrics_verdict(groups, breached, failed, lag, errors):
    verdict = metrics_verdict(job(), groups, lag_threshold=300, failed_rows_threshold=1)

    assert verdict.breached is breached
    assert verdict.failed_rows == failed
    assert verdict.lag == lag
    assert verdict.errors == errors


def test_errors_are_ordered_by_count_then_state():
    groups = [group(state=1, error="slow", rows=2), group(state=2, error="denied", rows=7)]

    verdict = metrics_verdict(job(), groups, 300, 1)

    assert [e.message for e in verdict.errors] == ["denied", "slow"]


def test_failed_rows_below_the_threshold_do_not_breach():
    verdict = metrics_verdict(job(), [group(failed=9)], 300, 10)

    assert (verdict.failed_rows, verdict.failed_rows_breached, verdict.breached) == (
        9,
        False,
        False,
    )
