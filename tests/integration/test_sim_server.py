"""The SLS simulator over real loopback sockets, driven by raw `requests` signed with
`shipper_alert.sls.signing`: response shapes, paging, the inclusive range, every error path,
authentication, faults, scripted task histories, retries, the list APIs, IPv6, shutdown and
the command line.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
import requests

from shipper_alert.sls import signing
from shipper_alert_dev.sim import (
    API_GET_SHIPPER_STATUS,
    API_LIST_SHIPPER,
    Fault,
    RealClock,
    SlsSimulator,
    cli,
)
from shipper_alert_dev.sim.http_server import loopback_address
from shipper_alert_dev.sim.server import project_from_host

REPO = Path(__file__).resolve().parents[2]
TASKS = "/logstores/l/shipper/s/tasks"
HOUR = 3600
SPECIAL_LOGSTORE = "we ird&name=x+y/中"


def scenario() -> dict[str, Any]:
    return {
        "projects": [
            {
                "name": "p",
                "logstores": [
                    {
                        "name": "l",
                        "shippers": [
                            {
                                "name": "s",
                                "tasks": [
                                    {
                                        "id": "fail-1",
                                        "created": "-30m",
                                        "status": "fail",
                                        "finished": "-28m",
                                        "message": "UnAuthorized: no permission to write oss",
                                        "taskCode": "UnAuthorized",
                                        "lastDataReceive": "-29m",
                                    },
                                    {
                                        "id": "ok-1",
                                        "created": "-20m",
                                        "status": "success",
                                        "finished": "-18m",
                                    },
                                    {"id": "run-1", "created": "-10m", "status": "running"},
                                ],
                            },
                            {"name": "other", "tasks": []},
                            {"name": "third"},
                        ],
                    },
                    {"name": "l2"},
                ],
            }
        ]
    }


def now_of(sim: SlsSimulator) -> int:
    return int(sim.clock.now())


def get_tasks(
    sls_request: Any,
    sim: SlsSimulator,
    start: int,
    end: int,
    params: dict[str, Any] | None = None,
    **options: Any,
) -> requests.Response:
    """GetShipperStatus of p/l/s over [start, end]; `options` go to `sls_request`."""
    return sls_request(sim, "GET", TASKS, {"from": start, "to": end, **(params or {})}, **options)


def assert_error(response: requests.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"errorCode": code, "errorMessage": message}
    assert re.fullmatch(r"[0-9A-F]{24}", response.headers["x-log-requestid"])


# --- GetShipperStatus ------------------------------------------------------------------


def test_get_shipper_status_answers_in_the_documented_shape(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)

    response = get_tasks(sls_request, sim, now - HOUR, now)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9A-F]{24}", response.headers["x-log-requestid"])
    body = response.json()
    assert set(body) == {"count", "total", "statistics", "tasks"}
    assert body["count"] == 3
    assert body["total"] == 3
    assert body["statistics"] == {"running": 1, "success": 1, "fail": 1}
    tasks = {task["id"]: task for task in body["tasks"]}
    assert tasks["fail-1"] == {
        "id": "fail-1",
        "taskStatus": "fail",
        "taskMessage": "UnAuthorized: no permission to write oss",
        "taskCreateTime": now - 30 * 60,
        "taskLastDataReceiveTime": now - 29 * 60,
        "taskFinishTime": now - 28 * 60,
        "taskCode": "UnAuthorized",
    }
    assert tasks["ok-1"]["taskLastDataReceiveTime"] == now - 18 * 60  # defaults to the finish
    assert tasks["ok-1"]["taskCode"] is None
    assert tasks["run-1"]["taskFinishTime"] == 0
    assert tasks["run-1"]["taskLastDataReceiveTime"] == now - 10 * 60


def test_request_ids_differ_between_responses(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    ids = {get_tasks(sls_request, sim, now - HOUR, now).headers["x-log-requestid"] for _ in "abc"}
    assert len(ids) == 3


def test_range_includes_both_ends_of_creation_time(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    created = now - 20 * 60  # ok-1

    def ids(start: int, end: int) -> set[str]:
        body = get_tasks(sls_request, sim, start, end).json()
        return {task["id"] for task in body["tasks"]}

    assert ids(created, created + 1) == {"ok-1"}
    assert ids(created - 1, created) == {"ok-1"}
    assert ids(created + 1, created + 60) == set()
    assert ids(created - 60, created - 1) == set()


def test_status_filter_narrows_tasks_and_total_but_not_statistics(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)

    body = get_tasks(sls_request, sim, now - HOUR, now, params={"status": "fail"}).json()

    assert [task["id"] for task in body["tasks"]] == ["fail-1"]
    assert (body["count"], body["total"]) == (1, 1)
    assert body["statistics"] == {"running": 1, "success": 1, "fail": 1}
    all_body = get_tasks(sls_request, sim, now - HOUR, now, params={"status": ""}).json()
    assert all_body["total"] == 3


def test_paging_walks_every_task_once_in_a_stable_order_not_sorted_by_time(sls_sim, sls_request):
    generated = {"start": "-10h", "every": "10m", "count": 50, "duration": "1m", "idPrefix": "g"}
    sim = sls_sim(
        {
            "projects": [
                {
                    "name": "p",
                    "logstores": [
                        {"name": "l", "shippers": [{"name": "s", "generate": [generated]}]}
                    ],
                }
            ]
        }
    )
    now = now_of(sim)

    pages = []
    offset = 0
    while True:
        body = get_tasks(
            sls_request, sim, now - 11 * HOUR, now, params={"offset": offset, "size": 7}
        ).json()
        assert body["total"] == 50
        if not body["tasks"]:
            break
        assert body["count"] == len(body["tasks"]) <= 7
        pages.extend(body["tasks"])
        offset += body["count"]

    ids = [task["id"] for task in pages]
    assert sorted(ids) == sorted(f"g-{i}" for i in range(50))
    assert len(set(ids)) == 50
    whole = get_tasks(sls_request, sim, now - 11 * HOUR, now, params={"size": 500}).json()
    assert [task["id"] for task in whole["tasks"]] == ids  # same order in one page
    by_time = [t["id"] for t in sorted(pages, key=lambda t: t["taskCreateTime"])]
    assert ids != by_time
    assert ids != list(reversed(by_time))


def test_defaults_for_offset_size_and_status(sls_sim, sls_request):
    generated = {"start": "-20h", "every": "5m", "count": 150, "idPrefix": "g"}
    sim = sls_sim(
        {
            "projects": [
                {
                    "name": "p",
                    "logstores": [
                        {"name": "l", "shippers": [{"name": "s", "generate": [generated]}]}
                    ],
                }
            ]
        }
    )
    now = now_of(sim)
    body = sls_request(sim, "GET", TASKS, {"from": now - 21 * HOUR, "to": now}).json()
    assert (body["count"], body["total"]) == (100, 150)
    body = get_tasks(
        sls_request, sim, now - 21 * HOUR, now, params={"size": 500, "offset": 140}
    ).json()
    assert body["count"] == 10


def test_query_of_exactly_48_hours_is_accepted(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    assert get_tasks(sls_request, sim, now - 48 * HOUR, now).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": -3600, "to": -3600}, "start time must be earlier than end time"),
        ({"from": -1800, "to": -3600}, "start time must be earlier than end time"),
        ({"from": -48 * 3600 - 1, "to": 0}, "only support query last 48 hours task status"),
        (
            {"from": -3600, "to": 0, "status": "failed"},
            "status only contains success/running/fail",
        ),
        ({"from": -3600, "to": 0, "size": 501}, "parameter size must be at most 500, not 501"),
        (
            {"from": -3600, "to": 0, "size": -1},
            "parameter size must be a non-negative integer, not '-1'",
        ),
        (
            {"from": -3600, "to": 0, "offset": "x"},
            "parameter offset must be a non-negative integer, not 'x'",
        ),
        ({"to": 0}, "parameter from is required"),
        ({"from": -3600}, "parameter to is required"),
        (
            {"from": "1.5", "to": 0},
            "parameter from must be a non-negative integer, not '1.5'",
        ),
    ],
)
def test_get_shipper_status_rejects_bad_parameters(sls_sim, sls_request, params, message):
    sim = sls_sim(scenario())
    now = now_of(sim)
    absolute = {
        key: now + value if key in ("from", "to") and isinstance(value, int) else value
        for key, value in params.items()
    }

    response = sls_request(sim, "GET", TASKS, absolute)

    assert_error(response, 400, "ParameterInvalid", message)


@pytest.mark.parametrize(
    ("project", "path", "status", "code", "message"),
    [
        ("nope", TASKS, 404, "ProjectNotExist", "Project nope does not exist"),
        ("p", "/logstores/x/shipper/s/tasks", 404, "LogStoreNotExist", "logstore x does not exist"),
        ("p", "/logstores/l/shipper/x/tasks", 400, "ShipperNotExist", "shipper x does not exist"),
    ],
)
def test_missing_project_logstore_and_shipper(
    sls_sim, sls_request, project, path, status, code, message
):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = sls_request(sim, "GET", path, {"from": now - HOUR, "to": now}, project=project)
    assert_error(response, status, code, message)


# --- authentication --------------------------------------------------------------------

STS_SCENARIO_CREDENTIALS = [
    {"accessKeyId": "STS.sim-id", "accessKeySecret": "sts-secret", "securityToken": "token-1"},
    {"accessKeyId": "plain-id", "accessKeySecret": "plain-secret"},
]


def sts_sim(sls_sim: Any) -> SlsSimulator:
    return sls_sim({**scenario(), "credentials": STS_SCENARIO_CREDENTIALS})


def test_sts_credentials_with_their_token_are_accepted(sls_sim, sls_request):
    sim = sts_sim(sls_sim)
    now = now_of(sim)
    response = sls_request(
        sim,
        "GET",
        TASKS,
        {"from": now - HOUR, "to": now},
        access_key_id="STS.sim-id",
        access_key_secret="sts-secret",
        security_token="token-1",
    )
    assert response.status_code == 200
    assert sim.received[-1].headers["x-acs-security-token"] == "token-1"
    plain = sls_request(
        sim,
        "GET",
        TASKS,
        {"from": now - HOUR, "to": now},
        access_key_id="plain-id",
        access_key_secret="plain-secret",
    )
    assert plain.status_code == 200


@pytest.mark.parametrize(
    ("key_id", "secret", "token", "message"),
    [
        ("STS.sim-id", "sts-secret", None, "The security token you provided is invalid."),
        ("STS.sim-id", "sts-secret", "token-2", "The security token you provided is invalid."),
        ("plain-id", "plain-secret", "token-1", "The security token you provided is invalid."),
        ("sim-access-key-id", "sim-access-key-secret", None, "The AccessKeyId is unauthorized."),
        ("unknown", "whatever", None, "The AccessKeyId is unauthorized."),
    ],
)
def test_unauthorized_keys_and_tokens(sls_sim, sls_request, key_id, secret, token, message):
    sim = sts_sim(sls_sim)
    now = now_of(sim)
    response = sls_request(
        sim,
        "GET",
        TASKS,
        {"from": now - HOUR, "to": now},
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
    )
    assert_error(response, 401, "Unauthorized", message)
    assert sim.received[-1].authorized is False


def test_wrong_secret_is_signature_not_match_naming_the_signature(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, access_key_secret="wrong")
    sent = sim.received[-1].headers["authorization"].split(":", 1)[1]
    assert_error(response, 401, "SignatureNotMatch", f"Signature {sent} not matched.")


def test_default_credentials_are_accepted_when_the_scenario_names_none(sls_sim, sls_request):
    sim = sls_sim(scenario())
    assert sim.credential.access_key_id == "sim-access-key-id"
    assert sim.credential.access_key_secret == "sim-access-key-secret"
    now = now_of(sim)
    assert get_tasks(sls_request, sim, now - HOUR, now).status_code == 200


def test_signature_covers_the_decoded_sorted_query(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    params = [("to", now), ("status", ""), ("from", now - HOUR), ("size", 10), ("offset", 0)]
    assert sls_request(sim, "GET", TASKS, params).status_code == 200
    tampered = sls_request(sim, "GET", TASKS, params, signed_params=[*params[:-1], ("offset", 1)])
    assert tampered.status_code == 401
    assert tampered.json()["errorCode"] == "SignatureNotMatch"


def test_x_log_date_and_meta_headers_are_not_signed_but_other_log_headers_are(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    unsigned = {"x-log-date": "Thu, 01 Jan 1970 00:00:00 GMT", "x-log-meta-note": "anything"}
    response = get_tasks(sls_request, sim, now - HOUR, now, extra_headers=unsigned)
    assert response.status_code == 200
    signed = get_tasks(sls_request, sim, now - HOUR, now, extra_headers={"x-log-extra": "1"})
    assert signed.json()["errorCode"] == "SignatureNotMatch"


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        ("date", "MissingDate", "Date does not exist in http header."),
        (
            "x-log-apiversion",
            "MissingAPIVersion",
            "x-log-apiversion does not exist in http header.",
        ),
        (
            "x-log-signaturemethod",
            "MissingSignatureMethod",
            "x-log-signaturemethod does not exist in http header.",
        ),
        (
            "x-log-bodyrawsize",
            "MissingBodyRawSize",
            "x-log-bodyrawsize does not exist in header when it is necessary.",
        ),
    ],
)
def test_missing_required_headers(sls_sim, sls_request, header, code, message):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, omit=[header])
    assert_error(response, 400, code, message)


def test_missing_authorization_is_unauthorized(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, omit=["authorization"])
    assert_error(response, 401, "Unauthorized", "Authorization does not exist in http header.")


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        (
            {"x-log-apiversion": "0.5.0"},
            "InvalidAPIVersion",
            "x-log-apiversion 0.5.0 is unsupported.",
        ),
        ({"x-log-bodyrawsize": "abc"}, "InvalidBodyRawSize", "x-log-bodyrawsize is invalid."),
        (
            {"authorization": "Bearer abc"},
            "ParameterInvalid",
            "Authorization header is malformed; expected LOG <AccessKeyId>:<Signature>.",
        ),
    ],
)
def test_invalid_header_values(sls_sim, sls_request, headers, code, message):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, extra_headers=headers)
    assert_error(response, 400, code, message)


def test_unparseable_date_is_invalid_date_format(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, date="yesterday")
    assert_error(response, 400, "InvalidDateFormat", "Date yesterday must follow RFC822.")


def test_date_more_than_15_minutes_off_is_expired_unless_the_check_is_off(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    stale = signing.http_date(now - 15 * 60 - 1)
    response = get_tasks(sls_request, sim, now - HOUR, now, date=stale)
    assert_error(
        response,
        400,
        "RequestTimeExpired",
        f"Request time {stale} has been expired while server time is {signing.http_date(now)}.",
    )
    edge = signing.http_date(now + 15 * 60)
    assert get_tasks(sls_request, sim, now - HOUR, now, date=edge).status_code == 200

    lenient = sls_sim(scenario(), check_date=False)
    old = signing.http_date(now - 3 * HOUR)
    assert get_tasks(sls_request, lenient, now - HOUR, now, date=old).status_code == 200


def test_x_log_date_stands_in_for_a_missing_date(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    date = signing.http_date(now)
    response = get_tasks(
        sls_request,
        sim,
        now - HOUR,
        now,
        date=date,
        omit=["date"],
        extra_headers={"x-log-date": date},
    )
    assert response.status_code == 200


def test_host_without_a_project_is_invalid_host(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now, project=None)
    host = sim.url.split("://", 1)[1]
    assert_error(
        response,
        400,
        "InvalidHost",
        f"Host {host} names no project; send Host: <project>.<endpoint>.",
    )


def test_unknown_paths_and_methods(sls_sim, sls_request):
    sim = sls_sim(scenario())
    assert_error(
        sls_request(sim, "GET", "/logstores/l/index"),
        404,
        "NotSupported",
        "the SLS simulator does not serve /logstores/l/index",
    )
    assert_error(
        sls_request(sim, "DELETE", TASKS),
        405,
        "MethodNotAllowed",
        f"DELETE is not allowed on {TASKS}",
    )


# --- RetryShipperTask ------------------------------------------------------------------


def test_retry_turns_a_failed_task_running_then_success(sls_sim, sls_request, sim_clock):
    sim = sls_sim(scenario())
    now = now_of(sim)

    response = sls_request(sim, "PUT", TASKS, body=["fail-1", "ok-1", "run-1", "unknown"])

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"
    assert re.fullmatch(r"[0-9A-F]{24}", response.headers["x-log-requestid"])
    assert sim.retried == [("p", "l", "s", ["fail-1", "ok-1", "run-1", "unknown"])]

    def task(task_id: str) -> dict[str, Any]:
        body = get_tasks(sls_request, sim, now - HOUR, int(sim_clock.now())).json()
        return next(t for t in body["tasks"] if t["id"] == task_id)

    assert task("fail-1")["taskStatus"] == "running"
    assert task("fail-1")["taskFinishTime"] == 0
    assert task("ok-1")["taskStatus"] == "success"
    assert task("ok-1")["taskFinishTime"] == now - 18 * 60
    assert task("run-1")["taskStatus"] == "running"
    sim_clock.advance(299)
    assert task("fail-1")["taskStatus"] == "running"
    sim_clock.advance(1)
    retried = task("fail-1")
    assert retried["taskStatus"] == "success"
    assert retried["taskFinishTime"] == now + 300
    assert retried["taskMessage"] == ""
    assert retried["taskCode"] is None


def test_retry_outcome_and_duration_come_from_the_task(sls_sim, sls_request, sim_clock):
    sim = sls_sim(
        {
            "projects": [
                {
                    "name": "p",
                    "logstores": [
                        {
                            "name": "l",
                            "shippers": [
                                {
                                    "name": "s",
                                    "tasks": [
                                        {
                                            "id": "perm",
                                            "created": "-1h",
                                            "status": "fail",
                                            "finished": "-59m",
                                            "message": "UnAuthorized: role missing",
                                            "taskCode": "UnAuthorized",
                                            "afterRetry": "fail",
                                            "retryDuration": "1m",
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    now = now_of(sim)
    assert sls_request(sim, "PUT", TASKS, body=["perm"]).status_code == 200
    sim_clock.advance(60)
    body = get_tasks(sls_request, sim, now - HOUR, now + 60).json()
    assert body["tasks"][0] == {
        "id": "perm",
        "taskStatus": "fail",
        "taskMessage": "UnAuthorized: role missing",
        "taskCreateTime": now - HOUR,
        "taskLastDataReceiveTime": now + 60,
        "taskFinishTime": now + 60,
        "taskCode": "UnAuthorized",
    }


def test_retry_of_more_than_ten_ids_is_refused_and_not_recorded(sls_sim, sls_request):
    sim = sls_sim(scenario())
    response = sls_request(sim, "PUT", TASKS, body=[f"t-{i}" for i in range(11)])
    assert_error(
        response, 400, "ParameterInvalid", "at most 10 tasks can be retried at a time, got 11"
    )
    assert sim.retried == []
    assert sls_request(sim, "PUT", TASKS, body=[f"t-{i}" for i in range(10)]).status_code == 200
    assert len(sim.retried) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "the body is not valid JSON"),
        (b'{"ids": ["a"]}', "the body must be a JSON array of task id strings"),
        (b"[1, 2]", "the body must be a JSON array of task id strings"),
    ],
)
def test_retry_with_a_bad_body_is_post_body_invalid(sls_sim, sls_request, body, message):
    sim = sls_sim(scenario())
    assert_error(sls_request(sim, "PUT", TASKS, body=body), 400, "PostBodyInvalid", message)
    assert sim.retried == []


def test_retry_checks_content_md5_and_the_errors_of_the_path(sls_sim, sls_request):
    sim = sls_sim(scenario())
    bad_md5 = "0" * 32
    response = sls_request(
        sim, "PUT", TASKS, body=["fail-1"], extra_headers={"content-md5": bad_md5}
    )
    assert_error(
        response, 400, "ParameterInvalid", f"Content-MD5 {bad_md5} does not match the body."
    )
    missing = sls_request(sim, "PUT", "/logstores/l/shipper/x/tasks", body=["fail-1"])
    assert_error(missing, 400, "ShipperNotExist", "shipper x does not exist")
    assert sim.retried == []


# --- scripted histories and the clock --------------------------------------------------


def test_states_play_out_as_the_clock_moves(sls_sim, sls_request, sim_clock):
    flip = {
        "id": "flip",
        "created": "-50m",
        "status": "fail",
        "finished": "-48m",
        "message": "InternalServerError",
        "taskCode": "InternalServerError",
        "states": [
            {"at": "+15m", "status": "running"},
            {"at": "+17m", "status": "fail", "message": "again", "taskCode": "Again"},
            {"at": "+45m", "status": "running"},
            {"at": "+47m", "status": "success"},
        ],
    }
    later = {"id": "later", "created": "+10m", "status": "success", "finished": "+13m"}
    sim = sls_sim(
        {
            "projects": [
                {
                    "name": "p",
                    "logstores": [
                        {"name": "l", "shippers": [{"name": "s", "tasks": [flip, later]}]}
                    ],
                }
            ]
        }
    )
    base = now_of(sim)
    created = base - 50 * 60

    def seen_at(instant: int) -> dict[str, tuple[str, str, int, str | None]]:
        sim_clock.set(instant)
        body = get_tasks(sls_request, sim, base - HOUR, base + HOUR).json()
        return {
            t["id"]: (t["taskStatus"], t["taskMessage"], t["taskFinishTime"], t["taskCode"])
            for t in body["tasks"]
        }

    assert seen_at(created - 1) == {}
    assert seen_at(created) == {"flip": ("running", "", 0, None)}
    assert seen_at(created + 2 * 60) == {
        "flip": ("fail", "InternalServerError", created + 120, "InternalServerError")
    }
    assert seen_at(created + 16 * 60)["flip"] == ("running", "", 0, None)
    assert seen_at(created + 17 * 60)["flip"] == ("fail", "again", created + 17 * 60, "Again")
    assert seen_at(created + 46 * 60)["flip"] == ("running", "", 0, None)
    assert seen_at(base) == {"flip": ("success", "", created + 47 * 60, None)}
    assert seen_at(base + 10 * 60)["later"] == ("running", "", 0, None)
    assert seen_at(base + 13 * 60)["later"] == ("success", "", base + 13 * 60, None)


def test_the_48_hour_limit_follows_the_simulated_clock(sls_sim, sls_request, sim_clock):
    sim = sls_sim(scenario())
    now = now_of(sim)
    assert get_tasks(sls_request, sim, now - 47 * HOUR, now).status_code == 200
    sim_clock.advance(2 * HOUR)
    response = get_tasks(sls_request, sim, now - 47 * HOUR, now)
    assert response.json()["errorMessage"] == "only support query last 48 hours task status"


def test_tasks_added_while_running_are_served(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.scenario.add_shipper(
        "p",
        "l",
        "added",
        tasks=[{"id": "n-1", "created": "-5m", "status": "fail", "finished": "-4m"}],
    )
    sim.scenario.add_tasks("p", "l", "s", [{"id": "n-2", "created": "-1m", "status": "running"}])
    response = sls_request(
        sim, "GET", "/logstores/l/shipper/added/tasks", {"from": now - HOUR, "to": now}
    )
    assert [t["id"] for t in response.json()["tasks"]] == ["n-1"]
    ids = {t["id"] for t in get_tasks(sls_request, sim, now - HOUR, now).json()["tasks"]}
    assert "n-2" in ids


# --- faults ----------------------------------------------------------------------------


def test_500_twice_then_success(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    armed = sim.inject(
        Fault(
            status=500,
            error_code="InternalServerError",
            error_message="internal server error",
            api=API_GET_SHIPPER_STATUS,
            times=2,
        )
    )
    first = get_tasks(sls_request, sim, now - HOUR, now)
    second = get_tasks(sls_request, sim, now - HOUR, now)
    third = get_tasks(sls_request, sim, now - HOUR, now)

    assert_error(first, 500, "InternalServerError", "internal server error")
    assert_error(second, 500, "InternalServerError", "internal server error")
    assert third.status_code == 200
    assert third.json()["total"] == 3
    assert (armed.hits, armed.remaining) == (2, 0)
    assert [r.status for r in sim.received] == [500, 500, 200]


def test_503_server_busy_with_extra_headers(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(
        Fault(
            status=503,
            error_code="ServerBusy",
            error_message="server is busy",
            headers={"Retry-After": "2"},
        )
    )
    response = get_tasks(sls_request, sim, now - HOUR, now)
    assert_error(response, 503, "ServerBusy", "server is busy")
    assert response.headers["Retry-After"] == "2"
    assert get_tasks(sls_request, sim, now - HOUR, now).status_code == 200


def test_raw_non_json_error_body(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(status=502, body="<html>bad gateway</html>"))
    response = get_tasks(sls_request, sim, now - HOUR, now)
    assert response.status_code == 502
    assert response.text == "<html>bad gateway</html>"
    assert "x-log-requestid" in response.headers


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        (Fault(status=200, body="not json"), "not json"),
        (
            Fault(status=200, json={"count": "two", "tasks": None}),
            '{"count": "two", "tasks": null}',
        ),
        (Fault(status=500), ""),
    ],
)
def test_bad_bodies_for_client_validation(sls_sim, sls_request, fault, text):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(fault)
    response = get_tasks(sls_request, sim, now - HOUR, now)
    assert response.status_code == fault.status
    assert response.text == text


def test_drop_closes_the_connection_without_an_answer(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(drop=True))
    with pytest.raises(requests.ConnectionError):
        get_tasks(sls_request, sim, now - HOUR, now)
    assert sim.received[-1].status is None
    assert get_tasks(sls_request, sim, now - HOUR, now).status_code == 200


def test_latency_delays_a_normal_answer(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(latency=2.0))
    with pytest.raises(requests.ReadTimeout):
        get_tasks(sls_request, sim, now - HOUR, now, timeout=0.2)
    sim.inject(Fault(latency=0.05))
    delayed = get_tasks(sls_request, sim, now - HOUR, now)
    assert delayed.status_code == 200
    assert delayed.json()["total"] == 3


def test_latency_with_an_error_status(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(latency=0.01, status=504, body="gateway timeout"))
    response = get_tasks(sls_request, sim, now - HOUR, now)
    assert (response.status_code, response.text) == (504, "gateway timeout")


def test_faults_are_scoped_and_forever_until_cleared(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(status=500, error_code="InternalServerError", shipper="other", times=None))
    sim.inject(Fault(status=500, error_code="InternalServerError", api=API_LIST_SHIPPER))
    other = "/logstores/l/shipper/other/tasks"
    window = {"from": now - HOUR, "to": now}

    assert get_tasks(sls_request, sim, now - HOUR, now).status_code == 200
    for _ in range(3):
        assert sls_request(sim, "GET", other, window).status_code == 500
    assert sls_request(sim, "GET", "/logstores/l/shipper").status_code == 500
    assert sls_request(sim, "GET", "/logstores/l/shipper").status_code == 200
    sim.clear_faults()
    assert sls_request(sim, "GET", other, window).status_code == 200


def test_faults_from_the_scenario_file(sls_sim, sls_request):
    data = scenario()
    data["faults"] = [
        {
            "api": "ListLogStores",
            "status": 503,
            "errorCode": "ServerBusy",
            "errorMessage": "busy",
            "times": 1,
        }
    ]
    sim = sls_sim(data)
    assert_error(sls_request(sim, "GET", "/logstores"), 503, "ServerBusy", "busy")
    assert sls_request(sim, "GET", "/logstores").status_code == 200


def test_a_fault_answers_even_an_unauthenticated_request(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    sim.inject(Fault(status=500, error_code="InternalServerError", error_message="boom"))
    response = get_tasks(sls_request, sim, now - HOUR, now, access_key_id="unknown")
    assert_error(response, 500, "InternalServerError", "boom")
    assert sim.received[-1].authorized is False


# --- ListShipper and ListLogStores -----------------------------------------------------


def test_list_shipper_with_paging(sls_sim, sls_request):
    sim = sls_sim(scenario())
    body = sls_request(sim, "GET", "/logstores/l/shipper").json()
    assert body == {"count": 3, "shipper": ["s", "other", "third"], "total": 3}
    page = sls_request(sim, "GET", "/logstores/l/shipper", {"offset": 1, "size": 1}).json()
    assert page == {"count": 1, "shipper": ["other"], "total": 3}
    assert sls_request(sim, "GET", "/logstores/l2/shipper").json() == {
        "count": 0,
        "shipper": [],
        "total": 0,
    }
    assert_error(
        sls_request(sim, "GET", "/logstores/nope/shipper"),
        404,
        "LogStoreNotExist",
        "logstore nope does not exist",
    )
    assert_error(
        sls_request(sim, "GET", "/logstores/l/shipper", {"size": 501}),
        400,
        "ParameterInvalid",
        "parameter size must be at most 500, not 501",
    )


def test_list_logstores_with_paging_and_name_filter(sls_sim, sls_request):
    names = ["alpha", "beta-log", "gamma-log", SPECIAL_LOGSTORE]
    sim = sls_sim({"projects": [{"name": "p", "logstores": [{"name": n} for n in names]}]})

    assert sls_request(sim, "GET", "/logstores").json() == {
        "count": 4,
        "total": 4,
        "logstores": names,
    }
    page = sls_request(sim, "GET", "/logstores", {"offset": 1, "size": 2}).json()
    assert page == {"count": 2, "total": 4, "logstores": ["beta-log", "gamma-log"]}
    filtered = sls_request(sim, "GET", "/logstores", {"logstoreName": "log"}).json()
    assert filtered == {"count": 2, "total": 2, "logstores": ["beta-log", "gamma-log"]}
    special = sls_request(sim, "GET", "/logstores", {"logstoreName": SPECIAL_LOGSTORE}).json()
    assert special["logstores"] == [SPECIAL_LOGSTORE]
    assert sim.received[-1].params["logstoreName"] == SPECIAL_LOGSTORE
    assert_error(
        sls_request(sim, "GET", "/logstores", project="ghost"),
        404,
        "ProjectNotExist",
        "Project ghost does not exist",
    )
    assert_error(
        sls_request(sim, "GET", "/logstores", {"size": 1000}),
        400,
        "ParameterInvalid",
        "parameter size must be at most 500, not 1000",
    )


# --- what the simulator records --------------------------------------------------------


def test_received_requests_are_recorded_decoded(sls_sim, sls_request):
    sim = sls_sim(scenario())
    now = now_of(sim)
    get_tasks(sls_request, sim, now - HOUR, now, params={"status": "fail"})
    sls_request(sim, "PUT", TASKS, body=["fail-1"])
    sls_request(sim, "GET", "/logstores", access_key_id="nobody")

    get, put, denied = sim.received
    assert (get.api, get.method, get.path, get.project) == (
        "GetShipperStatus",
        "GET",
        TASKS,
        "p",
    )
    assert get.params == {"from": str(now - HOUR), "to": str(now), "status": "fail"}
    assert get.headers["x-log-apiversion"] == "0.6.0"
    assert all(name == name.lower() for name in get.headers)
    assert (get.authorized, get.status, get.error_code, get.body) == (True, 200, None, b"")
    assert (put.api, put.body, put.status) == ("RetryShipperTask", b'["fail-1"]', 200)
    assert (denied.api, denied.authorized, denied.status, denied.error_code) == (
        "ListLogStores",
        False,
        401,
        "Unauthorized",
    )
    assert sim.requests_for("RetryShipperTask") == [put]


# --- addresses, lifecycle, IPv6 --------------------------------------------------------


def _ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="::1 is not available here")
def test_ipv6_loopback(sls_sim, sls_request):
    sim = sls_sim(scenario(), host="::1")
    assert re.fullmatch(r"http://\[::1\]:\d+", sim.url)
    assert sim.endpoint == sim.url
    now = now_of(sim)
    response = get_tasks(sls_request, sim, now - HOUR, now)
    assert response.status_code == 200
    assert response.json()["total"] == 3
    assert sim.received[-1].project == "p"


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104
        "192.168.1.10",
        "::",
        "example.com",
        "",
    ],
)
def test_only_loopback_addresses_are_bound(host):
    with pytest.raises(ValueError, match="only listens on a loopback address"):
        SlsSimulator(None, host=host)


def test_localhost_binds_ipv4_loopback(sls_sim):
    sim = sls_sim(None, host="localhost")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.url)


@pytest.mark.parametrize(
    ("host", "project"),
    [
        ("p.127.0.0.1:8080", "p"),
        ("p.127.0.0.1", "p"),
        ("my-project.cn-hangzhou.log.aliyuncs.com", "my-project"),
        ("p.[::1]:8080", "p"),
        ("127.0.0.1:8080", None),
        ("127.0.0.1", None),
        ("[::1]:8080", None),
        ("", None),
        (None, None),
    ],
)
def test_project_from_host(host, project):
    assert project_from_host(host) == project


def test_loopback_address_families():
    assert loopback_address("127.0.0.1") == ("127.0.0.1", socket.AF_INET)
    assert loopback_address("127.0.0.2") == ("127.0.0.2", socket.AF_INET)
    assert loopback_address("[::1]") == ("::1", socket.AF_INET6)


def test_stop_closes_kept_alive_connections_and_ends_every_thread(sim_clock):
    sim = SlsSimulator(scenario(), clock=sim_clock)
    with sim:
        assert sim.start() is sim  # starting twice is harmless
        session = requests.Session()
        for _ in range(3):  # one kept-alive connection, idle when stop() begins
            response = session.get(sim.url + "/logstores", headers={"host": "p.sim"}, timeout=5)
            assert response.json()["errorCode"] == "MissingDate"
        url = sim.url
    sim.stop()  # stopping twice is harmless
    alive = [t.name for t in threading.enumerate() if t.name.startswith("sls-sim")]
    assert alive == []
    assert not sim.running
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/logstores", timeout=2)
    session.close()


# --- the command line ------------------------------------------------------------------


def parse_cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


class _CliRun:
    def __init__(self, args: argparse.Namespace) -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.stop = threading.Event()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(args,))
        self.thread.start()

    def _run(self, args: argparse.Namespace) -> None:
        self.code = cli.run(args, stdout=self.out, stderr=self.err, stop=self.stop)

    def wait_for_url(self) -> str:
        for _ in range(200):
            match = re.search(r"listening on (http://\S+)", self.out.getvalue())
            if match:
                return match.group(1)
            if not self.thread.is_alive():
                break
            time.sleep(0.025)
        raise AssertionError(f"no URL printed: {self.out.getvalue()!r} {self.err.getvalue()!r}")

    def finish(self) -> int | None:
        self.stop.set()
        self.thread.join(10)
        return self.code


def test_cli_serves_a_scenario_until_stopped(tmp_path, sls_request):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({**scenario(), "credentials": STS_SCENARIO_CREDENTIALS[1:]}))
    run = _CliRun(parse_cli("--scenario", str(path), "--port", "0"))
    url = run.wait_for_url()
    target = types.SimpleNamespace(url=url, clock=RealClock())

    response = sls_request(
        target,
        "GET",
        "/logstores",
        access_key_id="plain-id",
        access_key_secret="plain-secret",
    )

    assert response.json()["logstores"] == ["l", "l2"]
    assert run.finish() == 0
    out = run.out.getvalue()
    assert f"SLS_ENDPOINT={url}" in out
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID=plain-id" in out
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET=plain-secret" in out
    assert "SHIPPERS=p/l/s,p/l/other,p/l/third" in out
    assert "SLS simulator stopped" in out


def test_cli_uses_the_demo_scenario_by_default(monkeypatch):
    monkeypatch.chdir(REPO)
    run = _CliRun(parse_cli())
    run.wait_for_url()
    assert run.finish() == 0
    out = run.out.getvalue()
    assert "scenario: scenarios/demo.json" in out
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID=sim-access-key-id" in out
    assert "shop-prod/nginx-access/oss-archive" in out
    assert "EXPORTS=shop-prod/export-nginx-oss,shop-prod/export-app-oss," in out


def test_cli_without_a_scenario_file_serves_an_empty_scenario(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    run = _CliRun(parse_cli("--now", "2026-11-28T08:00:00Z"))
    run.wait_for_url()
    assert run.finish() == 0
    assert "scenario: (empty)" in run.out.getvalue()
    assert "Date check is off" in run.err.getvalue()


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("--host", "0.0.0.0"), "only listens on a loopback address"),  # noqa: S104
        (("--scenario", "/nonexistent/s.json"), "/nonexistent/s.json"),
        (("--now", "yesterday"), "not a time: 'yesterday'"),
    ],
)
def test_cli_refuses_bad_input(argv, error):
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(parse_cli(*argv), stdout=out, stderr=err) == 2
    assert error in err.getvalue()
    assert out.getvalue() == ""


def test_cli_stops_cleanly_on_sigterm(tmp_path):
    code = (
        "import argparse, sys\n"
        "from shipper_alert_dev.sim import cli\n"
        "parser = argparse.ArgumentParser()\n"
        "cli.add_arguments(parser)\n"
        "sys.exit(cli.run(parser.parse_args(sys.argv[1:])))\n"
    )
    process = subprocess.Popen(  # noqa: S603 - our own code, a fixed command
        [sys.executable, "-c", code, "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline() if process.stdout else ""
        assert "SLS simulator listening on http://127.0.0.1:" in first
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "SLS simulator stopped" in out
