"""HEARTBEAT_URL is pinged after each clean check, only then, and never for long."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from tests import hostile

from shipper_alert.budget import Deadline
from shipper_alert.config import inspect_settings
from shipper_alert.handler import run
from shipper_alert.heartbeat import MAX_REPLY_BYTES, HeartbeatResult, ping
from shipper_alert.redact import Secret
from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.heartbeat import HeartbeatStandIn
from shipper_alert_dev.standins.webhook import WebhookStandIn

SCENARIO = {
    "projects": [
        {
            "name": "proj-a",
            "logstores": [
                {
                    "name": "logs",
                    "shippers": [
                        {
                            "name": "quiet",
                            "tasks": [
                                {
                                    "id": "s-1",
                                    "created": "-9m",
                                    "status": "success",
                                    "finished": "-3m",
                                }
                            ],
                        },
                        {
                            "name": "failing",
                            "tasks": [
                                {
                                    "id": "f-1",
                                    "created": "-9m",
                                    "status": "fail",
                                    "finished": "-3m",
                                    "message": "boom",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ]
}


@pytest.fixture
def heartbeat():
    standin = HeartbeatStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def webhook():
    standin = WebhookStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def env(sls_sim, tmp_path, monkeypatch, heartbeat, webhook, sim_clock):
    sim = sls_sim(SCENARIO)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("time.time", sim_clock.now)
    return {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-a/logs/quiet",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
        "WEBHOOK_URL": webhook.webhook_url,
        "HEARTBEAT_URL": heartbeat.ping_url,
    }


def test_a_quiet_clean_check_pings(env, heartbeat):
    outcome = run(b"", None, env)
    assert outcome.result["ok"] is True
    assert outcome.result["heartbeat"] == {"pinged": True, "error": None}
    [request] = heartbeat.received
    assert (request.method, request.path) == ("GET", f"/ping/{heartbeat.token}")


def test_a_check_that_delivered_its_alert_pings(env, heartbeat, webhook):
    outcome = run(b"", None, dict(env, SHIPPERS="proj-a/logs/failing"))
    assert outcome.result["ok"] is True
    assert len(webhook.received) == 1
    assert heartbeat.pings == 1


def test_an_unreadable_target_does_not_ping(env, heartbeat):
    outcome = run(b"", None, dict(env, SHIPPERS="proj-a/logs/quiet,proj-a/logs/gone"))
    assert outcome.result["ok"] is False
    assert "heartbeat" not in outcome.result
    assert heartbeat.received == []


def test_an_undelivered_alert_does_not_ping(env, heartbeat, webhook):
    webhook.fail_next(Reply(400, "bad request"), times=10)
    outcome = run(b"", None, dict(env, SHIPPERS="proj-a/logs/failing"))
    assert outcome.undelivered  # the handler raises for this
    assert outcome.result["ok"] is False
    assert heartbeat.received == []


def test_the_report_carries_the_label(env):
    assert run(b"", None, dict(env, ALERT_LABEL="prod-hz")).report.label == "prod-hz"


def test_a_dry_run_does_not_ping(env, heartbeat):
    outcome = run(b'{"dryRun": true}', None, env)
    assert outcome.result["ok"] is True
    assert heartbeat.received == []


def test_a_failing_ping_is_reported_without_the_token_and_keeps_ok(env, heartbeat):
    heartbeat.fail_next(Reply(503, "down"))
    outcome = run(b"", None, env)
    assert outcome.result["ok"] is True
    error = outcome.result["heartbeat"]["error"]
    assert error.startswith("heartbeat (http://127.0.0.1:")
    assert error.endswith("): HTTP 503")
    assert heartbeat.token not in json.dumps(outcome.result)


def test_a_slow_heartbeat_is_cut_off_at_its_bound(heartbeat, monkeypatch):
    monkeypatch.setattr("shipper_alert.heartbeat.HEARTBEAT_TIMEOUT", 0.3)
    heartbeat.fail_next(Reply(200, "OK", delay=3.0))
    deadline = Deadline(60)
    result = ping(Secret(heartbeat.ping_url), deadline)
    assert result.pinged is False
    assert result.error.endswith("no complete reply within 0.3s")
    assert deadline.remaining() > 57  # returned long before the invocation's deadline


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "http://hc-ping.com/abc",
            "HEARTBEAT_URL: must use https:// (http:// is allowed only to a loopback address)",
        ),
        ("ftp://x", "HEARTBEAT_URL: must be an https:// URL"),
    ],
)
def test_the_heartbeat_url_must_be_https(url, problem):
    env = {
        "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com",
        "SHIPPERS": "p-1/logs/ship",
        "DRY_RUN": "1",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "a",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b",
        "HEARTBEAT_URL": url,
    }
    assert list(inspect_settings(env).problems) == [problem]


BASE = {
    "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "p-1/logs/ship",
    "DRY_RUN": "1",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "a",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b",
}


@pytest.mark.parametrize(
    ("env", "context", "label"),
    [
        ({"ALERT_LABEL": "prod-hz"}, None, "prod-hz"),
        (
            {},
            SimpleNamespace(region="cn-shanghai", function=SimpleNamespace(name="check")),
            "check (cn-shanghai)",
        ),
        ({}, None, "shipper-alert"),
    ],
)
def test_the_alert_label_defaults_to_the_function_and_region(env, context, label):
    settings = inspect_settings({**BASE, **env}, context).settings
    assert settings.alert_label == label


def test_an_alert_label_on_several_lines_is_refused():
    assert list(inspect_settings({**BASE, "ALERT_LABEL": "a\nb"}).problems) == [
        "ALERT_LABEL: must be one line of at most 64 characters"
    ]


def test_a_heartbeat_reply_that_never_ends_is_cut_at_the_cap():
    server = hostile.HostileServer(hostile.endless()).start()
    try:
        result = ping(Secret(f"http://127.0.0.1:{server.port}/ping/tok"), Deadline(60))
    finally:
        server.stop()
    assert result == HeartbeatResult(
        False,
        f"heartbeat (http://127.0.0.1:{server.port}/ping/***): reply larger than the"
        f" {MAX_REPLY_BYTES} bytes accepted",
    )
