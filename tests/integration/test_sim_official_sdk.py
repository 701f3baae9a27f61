"""The vendor's own client, aliyun-log-python-sdk 0.9.52 `LogClient`, against the simulator.

If the official SDK can page, retry, list and fail against the simulator exactly as it does
against SLS, the simulator is a fair stand-in for our own client's tests (docs/vendors.md,
"SLS API": the `_isRowIp` work-around, paging, how errors surface).

No persistent 5xx faults here: the SDK retries those ten times with 1-second sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest
from aliyun.log import LogClient, LogException

from shipper_alert_dev.sim import Fault, SlsSimulator

HOUR = 3600
SPECIAL_LOGSTORE = "we ird&name=x+y/中"
STS = {"accessKeyId": "STS.sdk-id", "accessKeySecret": "sdk-sts-secret", "securityToken": "tok"}
PLAIN = {"accessKeyId": "sdk-id", "accessKeySecret": "sdk-secret"}
BULK_TASKS = 1203
BULK_FAIL_EVERY = 10


def sdk_scenario() -> dict[str, Any]:
    bulk = {
        "idPrefix": "bulk",
        "start": "-40h",
        "every": "1m",
        "count": BULK_TASKS,
        "duration": "30s",
        "failEvery": BULK_FAIL_EVERY,
        "failMessage": "NoSuchPartition: The specified partition does not exist",
        "failCode": "NoSuchPartition",
    }
    failed = {
        "id": "fail-1",
        "created": "-30m",
        "status": "fail",
        "finished": "-29m",
        "message": "UnAuthorized: no permission",
        "taskCode": "UnAuthorized",
    }
    return {
        "credentials": [PLAIN, STS],
        "projects": [
            {
                "name": "sdk-project",
                "logstores": [
                    {
                        "name": "access",
                        "shippers": [
                            {"name": "bulk", "generate": [bulk]},
                            {"name": "oss", "tasks": [failed]},
                            {"name": "odps"},
                        ],
                    },
                    {"name": SPECIAL_LOGSTORE},
                    *({"name": f"extra-{i:03d}"} for i in range(600)),
                ],
            }
        ],
    }


@pytest.fixture
def sim(sls_sim) -> SlsSimulator:
    return sls_sim(sdk_scenario())


@pytest.fixture
def make_client(sim: SlsSimulator):
    clients: list[LogClient] = []

    def make(
        key: dict[str, str] = PLAIN, secret: str | None = None, token: str | None = None
    ) -> LogClient:
        client = LogClient(
            f"127.0.0.1:{sim.port}",
            key["accessKeyId"],
            secret or key["accessKeySecret"],
            securityToken=token if token is not None else key.get("securityToken"),
            source="test",
        )
        client._isRowIp = True  # send to the IP, keep Host: <project>.127.0.0.1
        client.timeout = 5
        clients.append(client)
        return client

    yield make
    for client in clients:
        client._session.close()


def now_of(sim: SlsSimulator) -> int:
    return int(sim.clock.now())


def test_get_shipper_tasks_pages_over_more_than_500_tasks(sim, make_client):
    client = make_client()
    now = now_of(sim)

    response = client.get_shipper_tasks(
        "sdk-project", "access", "bulk", now - 47 * HOUR, now, "", 0, -1
    )

    expected_failed = BULK_TASKS // BULK_FAIL_EVERY
    assert response.get_count() == BULK_TASKS
    assert response.get_total() == BULK_TASKS
    assert sorted(t.task_id for t in response.get_tasks()) == sorted(
        f"bulk-{i}" for i in range(BULK_TASKS)
    )
    assert sorted(response.get_fail_task_ids()) == sorted(
        f"bulk-{i}" for i in range(BULK_FAIL_EVERY - 1, BULK_TASKS, BULK_FAIL_EVERY)
    )
    # The SDK sums the per-page statistics when it merges pages (docs/vendors.md, "SLS API").
    assert response.get_fail_task_count() == 3 * expected_failed
    assert response.get_success_task_count() == 3 * (BULK_TASKS - expected_failed)
    pages = [(r.params["offset"], r.params["size"]) for r in sim.received]
    assert pages == [("0", "500"), ("500", "500"), ("1000", "500")]
    assert all(r.project == "sdk-project" and r.authorized for r in sim.received)


def test_get_shipper_tasks_by_status_and_the_extra_task_code(sim, make_client):
    client = make_client()
    now = now_of(sim)

    response = client.get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now, "fail")

    assert response.get_fail_task_ids() == ["fail-1"]
    [task] = response.get_tasks()
    assert (task.task_status, task.task_message) == ("fail", "UnAuthorized: no permission")
    assert (task.task_create_time, task.task_finish_time) == (now - 1800, now - 1740)
    assert response.get_body()["tasks"][0]["taskCode"] == "UnAuthorized"
    assert len(response.get_request_id()) == 24


def test_retry_shipper_tasks(sim, make_client):
    client = make_client()
    now = now_of(sim)

    response = client.retry_shipper_tasks("sdk-project", "access", "oss", ["fail-1"])

    assert len(response.get_request_id()) == 24
    assert sim.retried == [("sdk-project", "access", "oss", ["fail-1"])]
    after = client.get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now)
    assert after.get_running_task_ids() == ["fail-1"]


def test_list_shipper(sim, make_client):
    client = make_client()
    response = client.list_shipper("sdk-project", "access")
    assert response.get_shipper() == ["bulk", "oss", "odps"]
    assert response.get_total() == 3


def test_list_logstore_with_a_special_character_filter(sim, make_client):
    client = make_client()

    response = client.list_logstore("sdk-project", SPECIAL_LOGSTORE)

    assert response.get_logstores() == [SPECIAL_LOGSTORE]
    assert sim.received[-1].params["logstoreName"] == SPECIAL_LOGSTORE
    assert sim.received[-1].authorized


def test_list_logstore_pages(sim, make_client):
    client = make_client()

    response = client.list_logstore("sdk-project", None, 0, -1)

    assert response.get_logstores_count() == 602
    assert response.get_logstores()[:2] == ["access", SPECIAL_LOGSTORE]
    pages = [(r.params["offset"], r.params["size"]) for r in sim.received]
    assert pages == [("0", "500"), ("500", "500")]


def test_sts_token(sim, make_client):
    now = now_of(sim)
    response = make_client(STS).get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now)
    assert response.get_total() == 1
    assert sim.received[-1].headers["x-acs-security-token"] == "tok"

    with pytest.raises(LogException) as raised:
        make_client(STS, token="stolen").list_shipper("sdk-project", "access")
    assert raised.value.get_error_code() == "Unauthorized"
    assert raised.value.get_error_message() == "The security token you provided is invalid."
    assert raised.value.resp_status == 401


@pytest.mark.parametrize(
    ("project", "shipper", "secret", "hours", "status", "code", "message"),
    [
        ("nope", "oss", None, 1, 404, "ProjectNotExist", "Project nope does not exist"),
        ("sdk-project", "nope", None, 1, 400, "ShipperNotExist", "shipper nope does not exist"),
        (
            "sdk-project",
            "oss",
            None,
            49,
            400,
            "ParameterInvalid",
            "only support query last 48 hours task status",
        ),
        ("sdk-project", "oss", "bad-secret", 1, 401, "SignatureNotMatch", None),
    ],
)
def test_errors_surface_as_log_exceptions_without_retries(
    sim, make_client, project, shipper, secret, hours, status, code, message
):
    client = make_client(secret=secret)
    now = now_of(sim)

    with pytest.raises(LogException) as raised:
        client.get_shipper_tasks(project, "access", shipper, now - hours * HOUR, now)

    error = raised.value
    assert (error.get_error_code(), error.resp_status) == (code, status)
    if message is not None:
        assert error.get_error_message() == message
    else:
        sent = sim.received[-1].headers["authorization"].split(":", 1)[1]
        assert error.get_error_message() == f"Signature {sent} not matched."
    assert len(error.get_request_id()) == 24
    assert len(sim.received) == 1  # 4xx: the SDK does not retry


def test_injected_faults_reach_the_sdk(sim, make_client):
    client = make_client()
    now = now_of(sim)
    sim.inject(Fault(status=403, error_code="ReadQuotaExceed", error_message="read quota exceed"))
    sim.inject(Fault(status=200, body="not json"))

    with pytest.raises(LogException) as quota:
        client.get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now)
    with pytest.raises(LogException) as garbled:
        client.get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now)

    assert (quota.value.get_error_code(), quota.value.resp_status) == ("ReadQuotaExceed", 403)
    assert garbled.value.get_error_code() == "BadResponse"
    assert (
        client.get_shipper_tasks("sdk-project", "access", "oss", now - HOUR, now).get_total() == 1
    )
