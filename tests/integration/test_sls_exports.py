"""ExportReader (sls/exports.py) against the SLS simulator over loopback HTTP.

Paging of every job view, the /jobs fallback when a view is refused, typed errors,
strict validation naming the field, and GetLogs with Incomplete answers repeated.
"""

from __future__ import annotations

from typing import Any

import pytest

from shipper_alert.budget import Deadline
from shipper_alert.redact import Secret
from shipper_alert.sls.client import Credentials, SlsClient
from shipper_alert.sls.errors import (
    SlsBadResponseError,
    SlsError,
    SlsNotFoundError,
    SlsRequestError,
    SlsTransientError,
)
from shipper_alert.sls.exports import ExportReader
from shipper_alert_dev.sim import Fault, SlsSimulator

PROJECT = "exp-proj"
OSS_JOBS = 205  # three pages of 100


def scenario() -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [
        {"project": PROJECT, "name": f"oss-{i:03d}", "logstore": "app-log"} for i in range(OSS_JOBS)
    ]
    jobs[0]["metrics"] = [{"start": "-10m", "count": 10, "lags": 400}]
    jobs += [
        {
            "project": PROJECT,
            "name": "odps-1",
            "type": "maxcompute",
            "logstore": "audit",
            "status": "STOPPED",
            "modified": "-2h",
            "metrics": [
                {
                    "start": "-10m",
                    "count": 5,
                    "state": 2,
                    "error": "write odps failed",
                    "failed": 7,
                },
                {"start": "-5m", "count": 5, "state": 1, "error": "throttled"},
            ],
        },
        {"project": PROJECT, "name": "hdfs-1", "type": "osshdfs", "logstore": "audit"},
    ]
    return {
        "exports": jobs,
        "diagnosticLogstores": [
            {"project": "noindex", "logstore": "internal-diagnostic_log", "index": False}
        ],
    }


@pytest.fixture
def sim(sls_sim) -> SlsSimulator:
    return sls_sim(scenario())


@pytest.fixture
def reader(sim: SlsSimulator):
    waits: list[float] = []
    credential = sim.credential
    credentials = Credentials(credential.access_key_id, Secret(credential.access_key_secret))
    with SlsClient(
        sim.endpoint,
        credentials,
        deadline=Deadline(30),
        clock=sim.clock.now,
        sleep=waits.append,
        max_attempts=2,
    ) as client:
        export_reader = ExportReader(client, sleep=waits.append)
        export_reader.waits = waits  # type: ignore[attr-defined]
        yield export_reader


def test_list_jobs_pages_every_view(reader, sim):
    jobs = reader.list_jobs(PROJECT)

    assert len(jobs) == OSS_JOBS + 2
    assert [(j.name, j.kind, j.status) for j in jobs[-2:]] == [
        ("odps-1", "maxcompute", "STOPPED"),
        ("hdfs-1", "osshdfs", "RUNNING"),
    ]
    offsets = [r.params["offset"] for r in sim.requests_for("ListOSSExports")]
    assert offsets == ["0", "100", "200"]
    assert {r.params["size"] for r in sim.requests_for("ListOSSExports")} == {"100"}


def test_list_jobs_of_one_logstore_sends_the_filter(reader, sim):
    jobs = reader.list_jobs(PROJECT, logstore="audit")

    assert [j.name for j in jobs] == ["odps-1", "hdfs-1"]
    assert sim.requests_for("ListMaxComputeExports")[0].params["logstore"] == "audit"


def test_a_refused_view_falls_back_to_jobs(reader, sim):
    sim.inject(Fault(api="ListOSSExports", status=403, error_code="Unauthorized", times=1))

    jobs = reader.list_jobs(PROJECT)

    assert len(jobs) == OSS_JOBS + 2
    assert jobs[-2].kind == "maxcompute"
    assert jobs[-1].kind == "oss"  # OSS-HDFS is AliyunOSS in the /jobs view
    assert [r.params["offset"] for r in sim.requests_for("ListExport")] == ["0", "100", "200"]


def test_get_job_finds_a_maxcompute_job_after_job_not_exist_in_the_oss_view(reader, sim):
    job = reader.get_job(PROJECT, "odps-1")

    assert (job.kind, job.status, job.logstore, job.modified_time) == (
        "maxcompute",
        "STOPPED",
        "audit",
        int(sim.clock.now()) - 7200,
    )
    assert [r.error_code for r in sim.requests_for("GetOSSExport")] == ["JobNotExist"]


def test_get_job_of_a_missing_job_is_job_not_exist(reader):
    with pytest.raises(SlsNotFoundError) as raised:
        reader.get_job(PROJECT, "nope")

    assert raised.value.code == "JobNotExist"
    assert raised.value.message == (
        "no OSS, MaxCompute or OSS-HDFS export job nope in project exp-proj"
    )


def test_a_job_name_that_would_change_the_path_is_refused_before_sending(reader, sim):
    with pytest.raises(SlsRequestError, match="invalid name"):
        reader.get_job(PROJECT, "../logstores")
    assert sim.received == []


def test_a_job_without_status_is_a_bad_response_naming_the_field(reader, sim):
    body = {"total": 1, "count": 1, "results": [{"name": "x", "configuration": {}}]}
    sim.inject(Fault(api="ListOSSExports", status=200, json=body))

    with pytest.raises(SlsBadResponseError) as raised:
        reader.list_jobs(PROJECT)

    assert raised.value.message == 'ListOSSExports response: missing "results[0].status"'


def test_connector_metrics_groups_rows_by_job_action_state_and_error(reader, sim):
    now = int(sim.clock.now())

    groups = reader.connector_metrics(PROJECT, "internal-diagnostic_log", now - 600, now)

    by_key = {(g.job, g.action, g.state, g.error): g for g in groups}
    assert by_key[("odps-1", "deliver", 2, "write odps failed")].rows == 5
    assert by_key[("odps-1", "deliver", 2, "write odps failed")].failed == 35
    assert by_key[("odps-1", "deliver", 1, "throttled")].rows == 5
    lagging = by_key[("oss-000", "ingest", 0, None)]
    assert (lagging.rows, lagging.lag_min, lagging.lag_max) == (10, 400.0, 400.0)
    assert lagging.last_time == now - 60
    request = sim.requests_for("GetLogs")[0]
    assert (request.method, request.path) == ("POST", "/logstores/internal-diagnostic_log/logs")


def test_incomplete_answers_are_repeated_until_complete(reader, sim):
    sim.scenario.exports.stores[(PROJECT, "internal-diagnostic_log")].incomplete_calls = 2
    now = int(sim.clock.now())

    groups = reader.connector_metrics(PROJECT, "internal-diagnostic_log", now - 600, now)

    assert groups
    assert len(sim.requests_for("GetLogs")) == 3
    assert reader.waits == [0.5, 0.5]


def test_a_query_that_stays_incomplete_is_an_error_not_an_empty_result(reader, sim):
    sim.scenario.exports.stores[(PROJECT, "internal-diagnostic_log")].incomplete_calls = 9
    now = int(sim.clock.now())

    with pytest.raises(SlsTransientError) as raised:
        reader.connector_metrics(PROJECT, "internal-diagnostic_log", now - 600, now)

    assert raised.value.code == "QueryIncomplete"
    assert len(sim.requests_for("GetLogs")) == 4


@pytest.mark.parametrize(
    ("project", "logstore", "code"),
    [
        ("noindex", "internal-diagnostic_log", "IndexConfigNotExist"),
        (PROJECT, "missing-store", "LogStoreNotExist"),
        ("no-such-project", "internal-diagnostic_log", "ProjectNotExist"),
    ],
)
def test_unreadable_diagnostic_logs_raise_the_vendor_code(reader, sim, project, logstore, code):
    now = int(sim.clock.now())
    with pytest.raises(SlsError) as raised:
        reader.connector_metrics(project, logstore, now - 600, now)

    assert raised.value.code == code
