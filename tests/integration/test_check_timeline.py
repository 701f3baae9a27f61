"""The check counts failed and succeeded tasks per interval over LOOKBACK (the timeline)."""

from __future__ import annotations

from shipper_alert.check import run_checks
from shipper_alert.config import Rules
from shipper_alert.models import ShipperRef, Window


def task(task_id, created, status, finished=None):
    entry = {"id": task_id, "created": created, "status": status, "message": "UnAuthorized"}
    return entry if finished is None else {**entry, "finished": finished}


TASKS = [
    *(task(f"f-{i}", "-10m", "fail", "-3m") for i in range(3)),
    task("old", "-5h", "fail", "-4h"),
    task("ok", "-2h10m", "success", "-2h"),
    task("run", "-20m", "running"),
]


def test_the_report_carries_counts_per_interval_over_the_lookback(sls_sim, sim_clock, sim_client):
    sim = sls_sim(
        {
            "projects": [
                {
                    "name": "proj-a",
                    "logstores": [{"name": "logs", "shippers": [{"name": "s", "tasks": TASKS}]}],
                }
            ]
        }
    )
    now = sim_clock.now()
    window = Window(int(now) - 360, int(now) - 60)
    with sim_client(sim) as client:
        (report,) = run_checks(client, [ShipperRef("proj-a", "logs", "s")], window, Rules(), now)

    timeline = report.timeline
    # LOOKBACK 6h + the 5-minute window in at most 24 bars: 30 minutes a bar, 13 bars,
    # the last ending where the window ends.
    assert timeline.interval == 1800
    assert timeline.end == window.end
    assert len(timeline.buckets) == 13
    assert [b.failed for b in timeline.buckets] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3]
    assert [b.succeeded for b in timeline.buckets] == [0] * 9 + [1, 0, 0, 0]
    assert report.failed == 3  # the window's own counts are unchanged
