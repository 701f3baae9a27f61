"""AUTO_RETRY against the simulator: RetryShipperTask for the reported failed tasks only."""

from __future__ import annotations

from shipper_alert.check import auto_retry, run_checks
from shipper_alert.config import Rules
from shipper_alert.models import ShipperRef, Window
from shipper_alert_dev.sim import Fault


def scenario(failures):
    tasks = [
        {
            "id": f"f-{i:02d}",
            "created": "-10m",
            "status": "fail",
            "finished": "-3m",
            "message": "UnAuthorized",
        }
        for i in range(failures)
    ]
    tasks.append({"id": "old", "created": "-5h", "status": "fail", "finished": "-4h"})
    return {
        "projects": [
            {
                "name": "proj-a",
                "logstores": [{"name": "logs", "shippers": [{"name": "s", "tasks": tasks}]}],
            }
        ]
    }


def check(sim, clock, sim_client, dry_run=False):
    now = clock.now()
    window = Window(int(now) - 360, int(now) - 60)
    with sim_client(sim) as client:
        reports = run_checks(client, [ShipperRef("proj-a", "logs", "s")], window, Rules(), now)
        return auto_retry(client, reports, dry_run)


def test_reported_failures_are_retried_in_calls_of_ten(sls_sim, sim_clock, sim_client):
    sim = sls_sim(scenario(23))
    (report,) = check(sim, sim_clock, sim_client)
    assert report.retry.requested is True
    assert report.retry.error is None
    assert [len(ids) for (_, _, _, ids) in sim.retried] == [10, 10, 3]
    retried = [task_id for (_, _, _, ids) in sim.retried for task_id in ids]
    assert sorted(retried) == [f"f-{i:02d}" for i in range(23)]  # never "old": not reported now


def test_a_dry_run_retries_nothing_and_says_what_it_would_do(sls_sim, sim_clock, sim_client):
    sim = sls_sim(scenario(3))
    (report,) = check(sim, sim_clock, sim_client, dry_run=True)
    assert report.retry.requested is False
    assert report.retry.task_ids == ("f-00", "f-01", "f-02")
    assert sim.retried == []


def test_a_failed_retry_call_is_reported_and_the_alert_still_goes_out(
    sls_sim, sim_clock, sim_client
):
    sim = sls_sim(scenario(2))
    sim.inject(
        Fault(
            api="RetryShipperTask",
            status=403,
            error_code="Unauthorized",
            error_message="denied by RAM policy",
        )
    )
    (report,) = check(sim, sim_clock, sim_client)
    assert report.breached is True
    assert report.retry.requested is True
    assert report.retry.error == "Unauthorized: denied by RAM policy"
