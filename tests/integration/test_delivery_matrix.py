"""Every channel at once, through index.handler, against real loopback stand-ins.

The contract's delivery rules across channels: one channel failing never stops the others;
a partial delivery returns normally with "ok": false; nothing delivered raises; what went
out is never sent twice by FC's retry; and no secret reaches a log line, at DEBUG.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

import index
from shipper_alert.config import CHANNEL_VARIABLES
from shipper_alert.errors import NotDeliveredError
from shipper_alert.notify.slack.notifier import SlackNotifier
from shipper_alert.reminders import FILE_NAME
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn
from shipper_alert_dev.standins.feishu import FeishuStandIn
from shipper_alert_dev.standins.slack import SlackStandIn
from shipper_alert_dev.standins.smtp import SmtpStandIn
from shipper_alert_dev.standins.webhook import WebhookStandIn
from shipper_alert_dev.standins.wecom import WeComStandIn

KEY_ID = "LTAI-matrix-key-id"
KEY_SECRET = "matrix-access-key-secret"
TOKEN = "matrix-sts-token-value"
DINGTALK_TOKEN = "dingtalk-access-token-0123456789"
DINGTALK_SECRET = "SECdingtalk-signing-secret-abcdef"
SLACK_PATH = "/services/T0MATRIX/B0MATRIX/slack-secret-path-token"
WECOM_KEY = "wecom-robot-key-5f6e7d"
FEISHU_TOKEN = "feishu-hook-token-8a9b0c"
FEISHU_SECRET = "feishu-signing-secret-1d2e3f"
WEBHOOK_PATH = "/hooks/matrix/webhook-secret-path-token"
SMTP_PASSWORD = "smtp-password-4g5h6i"
SECRETS = (
    KEY_ID,
    KEY_SECRET,
    TOKEN,
    DINGTALK_TOKEN,
    DINGTALK_SECRET,
    "slack-secret-path-token",
    WECOM_KEY,
    FEISHU_TOKEN,
    FEISHU_SECRET,
    "webhook-secret-path-token",
    SMTP_PASSWORD,
)

SCENARIO = {
    "credentials": [{"accessKeyId": KEY_ID, "accessKeySecret": KEY_SECRET, "securityToken": TOKEN}],
    "projects": [
        {
            "name": "proj-a",
            "logstores": [
                {
                    "name": "logs",
                    "shippers": [
                        {
                            "name": "to-oss",
                            "tasks": [
                                {
                                    "id": "task-fail-1",
                                    "created": "-20m",
                                    "status": "fail",
                                    "finished": "-4m",
                                    "message": "UnAuthorized: role cannot write bucket",
                                    "taskCode": "UnAuthorized",
                                },
                                {
                                    "id": "task-fail-2",
                                    "created": "-10m",
                                    "status": "fail",
                                    "finished": "-3m",
                                    "message": "InvalidOssBucket: bucket gone",
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}
CHANNELS = ("dingtalk", "slack", "wecom", "feishu", "webhook", "email")


@pytest.fixture
def world(sls_sim, sim_clock, tmp_path, monkeypatch):
    sim = sls_sim(SCENARIO)
    standins = {
        "dingtalk": DingTalkStandIn(DINGTALK_TOKEN, secret=DINGTALK_SECRET),
        "slack": SlackStandIn(SLACK_PATH),
        "wecom": WeComStandIn(WECOM_KEY),
        "feishu": FeishuStandIn(FEISHU_TOKEN, secret=FEISHU_SECRET),
        "webhook": WebhookStandIn(WEBHOOK_PATH),
        "email": SmtpStandIn(
            username="alerts@example.com", password=SMTP_PASSWORD, auth_require_tls=False
        ),
    }
    for standin in standins.values():
        standin.start()
    env = {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-a/logs/to-oss",
        "DINGTALK_WEBHOOK_URL": standins["dingtalk"].webhook_url,
        "DINGTALK_SECRET": DINGTALK_SECRET,
        "DINGTALK_AT_MOBILES": "13800000000",
        "SLACK_WEBHOOK_URL": standins["slack"].webhook_url,
        "WECOM_WEBHOOK_URL": standins["wecom"].webhook_url,
        "WECOM_MENTIONED_MOBILES": "13900000000",
        "FEISHU_WEBHOOK_URL": standins["feishu"].webhook_url,
        "FEISHU_SECRET": FEISHU_SECRET,
        "WEBHOOK_URL": standins["webhook"].webhook_url,
        "EMAIL_TO": "oncall@example.com, lead@example.com",
        "EMAIL_FROM": "alerts@example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(standins["email"].port),
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "alerts@example.com",
        "SMTP_PASSWORD": SMTP_PASSWORD,
    }
    monkeypatch.setattr("time.time", sim_clock.now)
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # back-offs are not waited out
    context = SimpleNamespace(
        request_id="matrix",
        region="cn-hangzhou",
        function=SimpleNamespace(name="shipper-alert", timeout=60),
        credentials=SimpleNamespace(
            access_key_id=KEY_ID, access_key_secret=KEY_SECRET, security_token=TOKEN
        ),
    )

    def check(only=CHANNELS, event=b"", **changes):
        keep = {name for channel in only for name in _variables(channel)}
        environment = {k: v for k, v in env.items() if k in keep or not _is_channel_variable(k)}
        environment.update({k: v for k, v in changes.items() if v is not None})
        environment["TMPDIR"] = str(tmp_path)  # the reminder state's directory
        monkeypatch.setattr("os.environ", environment)
        return json.loads(index.handler(event, context))

    yield SimpleNamespace(
        sim=sim, standins=standins, check=check, clock=sim_clock, state=tmp_path / FILE_NAME
    )
    for standin in standins.values():
        standin.stop()


def _variables(channel):
    return CHANNEL_VARIABLES[channel]


def _is_channel_variable(name):
    return any(name in names for names in CHANNEL_VARIABLES.values())


def received_text(world, channel):
    """Everything a stand-in took, as one string to search."""
    standin = world.standins[channel]
    if channel == "email":
        return "\n".join(mail.part("plain") + mail.part("html") for mail in standin.received)
    return "\n".join(json.dumps(r.json, ensure_ascii=False) for r in standin.delivered())


def take_down(world, channel, times=20):
    """Make a channel refuse permanently (a configuration error on its side)."""
    standin = world.standins[channel]
    if channel == "email":
        standin.refuse_next("MAIL", "554 5.7.1 relay access denied", times)
    elif channel == "slack":
        standin.fail_next(Reply(404, "no_service"), times)
    elif channel in ("dingtalk", "wecom", "feishu"):
        standin.fail_next(Reply(404, "<html>gone</html>"), times)
    else:
        standin.fail_next(Reply(410, "gone"), times)


def test_every_channel_delivers_every_failed_task_once(world):
    result = world.check()
    assert result["ok"] is True
    assert [(n["channel"], n["delivered"]) for n in result["notifications"]] == [
        (c, True) for c in CHANNELS
    ]
    for channel in CHANNELS:
        text = received_text(world, channel)
        assert "task-fail-1" in text, channel
        assert "task-fail-2" in text, channel
    assert len(world.standins["dingtalk"].delivered()) == 1
    assert len(world.standins["slack"].delivered()) == 1
    assert len(world.standins["wecom"].delivered()) == 2  # the alert, then the mention
    assert {rcpt for mail in world.standins["email"].received for rcpt in mail.rcpt_tos} == {
        "oncall@example.com",
        "lead@example.com",
    }


@pytest.mark.parametrize("down", CHANNELS)
def test_one_channel_down_never_stops_the_others(world, down):
    take_down(world, down)
    result = world.check()  # returns normally: FC must not retry what was delivered
    assert result["ok"] is False
    by_channel = {n["channel"]: n for n in result["notifications"]}
    assert by_channel[down]["delivered"] is False
    assert by_channel[down]["attempts"] == 1  # a permanent refusal is not retried
    assert by_channel[down]["error"]
    for channel in CHANNELS:
        if channel != down:
            assert by_channel[channel]["delivered"] is True, channel
            assert "task-fail-1" in received_text(world, channel)


def test_three_channels_one_down_gives_ok_false_with_two_delivered(world):
    take_down(world, "slack")
    result = world.check(only=("dingtalk", "slack", "email"))
    assert result["ok"] is False
    assert [(n["channel"], n["delivered"]) for n in result["notifications"]] == [
        ("dingtalk", True),
        ("slack", False),
        ("email", True),
    ]
    assert "no_service" in result["notifications"][1]["error"]


def test_all_channels_down_raises_so_fc_records_a_failure(world):
    for channel in ("dingtalk", "slack", "email"):
        take_down(world, channel)
    with pytest.raises(NotDeliveredError) as caught:
        world.check(only=("dingtalk", "slack", "email"))
    result = json.loads(caught.value.result_json)
    assert result["ok"] is False
    assert [n["delivered"] for n in result["notifications"]] == [False, False, False]
    assert str(caught.value).startswith("findings were not delivered by any channel (dingtalk: ")


def test_a_rate_limited_channel_is_retried_and_delivers_once(world):
    world.standins["dingtalk"].rate_limit_next()
    world.standins["slack"].rate_limit_next(retry_after=1)
    result = world.check(only=("dingtalk", "slack"))
    by_channel = {n["channel"]: n for n in result["notifications"]}
    assert by_channel["dingtalk"] == {
        "channel": "dingtalk",
        "delivered": True,
        "attempts": 2,
        "error": None,
        "partial": False,
    }
    assert by_channel["slack"]["attempts"] == 2
    assert len(world.standins["dingtalk"].delivered()) == 1
    assert len(world.standins["slack"].delivered()) == 1


def test_a_channel_that_cannot_build_its_message_does_not_stop_the_others(world, monkeypatch):
    def broken(self, report, renderer):
        raise RuntimeError("template bug")

    monkeypatch.setattr(SlackNotifier, "build", broken)
    result = world.check(only=("slack", "webhook"))
    assert result["notifications"][0] == {
        "channel": "slack",
        "delivered": False,
        "attempts": 0,
        "error": "cannot build the message: RuntimeError: template bug",
        "partial": False,
    }
    assert result["notifications"][1]["delivered"] is True
    assert result["ok"] is False


def test_a_partial_email_delivery_returns_normally_so_nobody_gets_it_twice(world):
    world.standins["email"].refuse_recipient("lead@example.com", "550 5.1.1 no such mailbox")
    result = world.check(only=("email",))  # the only channel: partial must not raise
    (email,) = result["notifications"]
    assert email["delivered"] is False
    assert email["partial"] is True
    assert "lead@example.com: 550 5.1.1 no such mailbox" in email["error"]
    assert [mail.rcpt_tos for mail in world.standins["email"].received] == [("oncall@example.com",)]
    assert result["ok"] is False


def test_a_monitor_error_is_sent_at_once_then_at_most_hourly(world):
    shipper = {"SHIPPERS": "proj-a/logs/missing"}
    sent = []
    for _ in range(14):  # 14 consecutive 5-minute checks
        result = world.check(only=("webhook",), **shipper)
        assert result["shippers"][0]["error"]["code"] == "ShipperNotExist"
        sent.append(len(result["notifications"]))
        world.clock.advance(300)
    assert sent == [1] + [0] * 11 + [1, 0]
    assert world.state.exists()
    documents = world.standins["webhook"].delivered()
    assert len(documents) == 2


def test_auto_retry_is_requested_and_said_in_the_message(world):
    result = world.check(only=("webhook",), AUTO_RETRY="true")
    assert result["ok"] is True
    assert sorted(ids for (_, _, _, batch) in world.sim.retried for ids in batch) == [
        "task-fail-1",
        "task-fail-2",
    ]
    (document,) = world.standins["webhook"].messages()
    (alert,) = document["alerts"]
    assert alert["autoRetry"] == {
        "requested": True,
        "ok": True,
        "error": None,
        "taskCount": 2,
        "taskIds": ["task-fail-1", "task-fail-2"],
        "taskIdsOmitted": 0,
    }


def test_debug_logging_shows_no_secret_on_any_path(world, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    world.standins["dingtalk"].rate_limit_next()  # a retry is logged
    take_down(world, "feishu")  # a permanent failure is logged
    world.standins["email"].refuse_next("RCPT", "451 4.7.1 try again later")  # a retryable one
    result = world.check(LOG_LEVEL="DEBUG")
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    assert any("retrying" in record.getMessage() for record in caplog.records)
    output = caplog.text + json.dumps(result) + "".join(capsys.readouterr())
    leaked = [secret for secret in SECRETS if secret in output]
    assert leaked == []
