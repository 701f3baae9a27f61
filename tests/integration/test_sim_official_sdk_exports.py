"""The vendor's SDKs against the simulator's export-job and GetLogs APIs.

aliyun-log-python-sdk 0.9.52 (`hmac-sha1`) drives `/jobs` and GetLogs in both forms (v2 POST,
its default, and v1 GET); alibabacloud-sls20201230 5.15.1 (`hmac-sha256`, through an HTTP
proxy so that its `{project}.{endpoint}` host reaches the loopback server) drives the
2020-12-30 views. If both parse what the simulator serves, our client's tests against the
simulator test against the vendor's shapes.
"""

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_sls20201230 import models
from alibabacloud_sls20201230.client import Client as TeaClient
from alibabacloud_tea_openapi.models import Config
from aliyun.log import LogClient, LogException
from Tea.exceptions import UnretryableException

from shipper_alert_dev.sim import SlsSimulator

PROJECT = "sdk-project"
QUERY = (
    "__topic__: etl_metrics and metric_type: ConnectorMetrics | select job_name,"
    " count(*) as cnt from log group by job_name"
)
ERROR_QUERY = (
    '(__topic__: etl_metrics and metric_type: ConnectorMetrics and "_etl_:connector_metrics.state"'
    ' > 0)| select job_name, COUNT(*) as cnt, array_agg(distinct "_etl_:connector_metrics.error")'
    " as error  FROM log group by job_name limit 10000"
)
OSS_JOBS = 13  # more than one page of the typed view's default size 10


def scenario() -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [
        {"project": PROJECT, "name": f"oss-{i:02d}", "logstore": "app-log", "metrics": []}
        for i in range(OSS_JOBS)
    ]
    jobs[0]["metrics"] = [{"start": "-10m", "count": 10}]
    jobs.append(
        {
            "project": PROJECT,
            "name": "odps-1",
            "type": "maxcompute",
            "logstore": "audit",
            "status": "STOPPED",
            "metrics": [{"start": "-5m", "count": 5, "state": 2, "error": "write odps failed"}],
        }
    )
    jobs.append({"project": PROJECT, "name": "hdfs-1", "type": "osshdfs", "logstore": "app-log"})
    return {"exports": jobs}


@pytest.fixture
def sim(sls_sim) -> SlsSimulator:
    return sls_sim(scenario())


@pytest.fixture
def log_client(sim: SlsSimulator):
    credential = sim.credential
    client = LogClient(
        f"127.0.0.1:{sim.port}",
        credential.access_key_id,
        credential.access_key_secret,
        source="test",
    )
    client._isRowIp = True  # send to the IP, keep Host: <project>.127.0.0.1
    client.timeout = 5
    yield client
    client._session.close()


@pytest.fixture
def tea_client(sim: SlsSimulator) -> TeaClient:
    credential = sim.credential
    config = Config(
        access_key_id=credential.access_key_id,
        access_key_secret=credential.access_key_secret,
        endpoint=f"127.0.0.1:{sim.port}",
        protocol="http",
        http_proxy=f"http://127.0.0.1:{sim.port}",
        read_timeout=5000,
        connect_timeout=5000,
    )
    return TeaClient(config)


def test_python_sdk_lists_every_export_job_through_jobs(log_client, sim):
    response = log_client.list_export(PROJECT, 0, 100)

    assert response.get_total() == OSS_JOBS + 2
    names = [job["name"] for job in response.get_exports()]
    assert names[:2] == ["oss-00", "oss-01"]
    assert names[-2:] == ["odps-1", "hdfs-1"]
    request = sim.requests_for("ListExport")[0]
    assert request.params == {"offset": "0", "size": "100", "jobType": "Export"}
    assert request.authorized


def test_python_sdk_gets_one_job_through_jobs_with_its_sink_type(log_client):
    job = log_client.get_export(PROJECT, "odps-1").get_export()

    assert job["status"] == "STOPPED"
    assert job["configuration"]["sink"]["type"] == "AliyunODPS"
    assert job["schedule"] == {"type": "Resident", "runImmediately": True}


def test_python_sdk_sees_job_not_exist(log_client):
    with pytest.raises(LogException) as raised:
        log_client.get_export(PROJECT, "missing")

    assert raised.value.get_error_code() == "JobNotExist"
    assert raised.value.resp_status == 404


@pytest.mark.parametrize("v2", [True, False], ids=["POST v2", "GET v1"])
def test_python_sdk_get_log_runs_the_vendor_count_query(log_client, sim, v2):
    log_client._get_logs_v2_enabled = v2
    now = int(sim.clock.now())

    response = log_client.get_log(PROJECT, "internal-diagnostic_log", now - 600, now, query=QUERY)

    rows = {
        log.get_contents()["job_name"]: log.get_contents()["cnt"] for log in response.get_logs()
    }
    assert rows == {"oss-00": "20", "odps-1": "10"}  # one ingest and one deliver row a minute
    assert response.is_completed()
    request = sim.requests_for("GetLogs")[0]
    assert request.method == ("POST" if v2 else "GET")
    assert request.authorized


def test_python_sdk_get_log_runs_the_vendor_error_monitor_query(log_client, sim):
    now = int(sim.clock.now())

    response = log_client.get_log(
        PROJECT, "internal-diagnostic_log", now - 600, now, query=ERROR_QUERY
    )

    assert [log.get_contents() for log in response.get_logs()] == [
        {"job_name": "odps-1", "cnt": "5", "error": '["write odps failed"]'}
    ]


def test_python_sdk_get_log_on_a_missing_logstore_is_logstore_not_exist(log_client, sim):
    now = int(sim.clock.now())
    with pytest.raises(LogException) as raised:
        log_client.get_log(PROJECT, "no-such-store", now - 600, now, query=QUERY)

    assert raised.value.get_error_code() == "LogStoreNotExist"


def test_tea_sdk_pages_the_oss_view_and_signs_with_sha256(tea_client, sim):
    first = tea_client.list_ossexports(PROJECT, models.ListOSSExportsRequest(offset=0, size=10))
    second = tea_client.list_ossexports(PROJECT, models.ListOSSExportsRequest(offset=10, size=10))

    assert (first.body.total, first.body.count, second.body.count) == (OSS_JOBS, 10, 3)
    names = [job.name for job in first.body.results + second.body.results]
    assert names == [f"oss-{i:02d}" for i in range(OSS_JOBS)]
    assert first.body.results[0].configuration.sink.bucket == f"{PROJECT}-archive"
    methods = {r.headers["x-log-signaturemethod"] for r in sim.requests_for("ListOSSExports")}
    assert methods == {"hmac-sha256"}
    assert all(r.authorized for r in sim.requests_for("ListOSSExports"))


def test_tea_sdk_reads_the_maxcompute_and_oss_hdfs_views(tea_client):
    odps = tea_client.list_max_compute_exports(
        PROJECT, models.ListMaxComputeExportsRequest(offset=0, size=10)
    )
    hdfs = tea_client.get_osshdfsexport(PROJECT, "hdfs-1")

    assert [(j.name, j.status) for j in odps.body.results] == [("odps-1", "STOPPED")]
    assert odps.body.results[0].configuration.sink.odps_table == "odps-1"
    assert (hdfs.body.name, hdfs.body.status) == ("hdfs-1", "RUNNING")


def test_tea_sdk_gets_job_not_exist_for_a_job_of_another_kind(tea_client):
    with pytest.raises(UnretryableException) as raised:
        tea_client.get_ossexport(PROJECT, "odps-1")

    assert raised.value.code == "JobNotExist"
    assert raised.value.data["httpCode"] == 404
