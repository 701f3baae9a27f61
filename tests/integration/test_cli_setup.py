"""`--env-file`, `send-test` and `validate --online` against loopback stand-ins."""

from __future__ import annotations

import io

import pytest

from shipper_alert.cli import main
from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn
from shipper_alert_dev.standins.webhook import WebhookStandIn

SCENARIO = {
    "projects": [
        {
            "name": "proj-a",
            "logstores": [{"name": "logs", "shippers": [{"name": "good", "tasks": []}]}],
        }
    ]
}
SIGNING_SECRET = "SECsend-test-signing-secret-77"


@pytest.fixture
def dingtalk():
    standin = DingTalkStandIn("send-test-token-3a9", secret=SIGNING_SECRET).start()
    yield standin
    standin.stop()


@pytest.fixture
def env(sls_sim, monkeypatch, tmp_path, dingtalk):
    sim = sls_sim(SCENARIO)
    values = {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-a/logs/good",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
        "DINGTALK_WEBHOOK_URL": dingtalk.webhook_url,
        "DINGTALK_SECRET": SIGNING_SECRET,
    }
    monkeypatch.setattr("os.environ", values)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return values


def cli(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_the_env_file_is_read_without_shell_semantics(env, tmp_path):
    env_file = tmp_path / "alert.env"
    env_file.write_text(
        "# the README's own example, unquoted\n"
        "EMAIL_TO=oncall@example.com\n"
        "EMAIL_FROM=Shipper Alert <alert@example.com>\n"
        "SMTP_HOST=127.0.0.1\n"
        "SMTP_PORT='2525'\n"
        'SMTP_SECURITY="none"\n'
        "export LOG_LEVEL=DEBUG\n"
        "ALERT_TIMEZONE=$HOME\n"
    )
    code, out = cli("validate", "--env-file", str(env_file))
    assert "EMAIL_FROM                       Shipper Alert <alert@example.com>" in out
    assert "SMTP_PORT                        2525" in out
    assert "LOG_LEVEL                        debug" in out
    assert "ALERT_LABEL                      shipper-alert  (default)" in out
    # Taken literally: no $ expansion.
    assert "  - ALERT_TIMEZONE: '$HOME' is not a known IANA time zone (e.g. Asia/Shanghai)" in out
    assert code == 2


def test_a_bad_env_file_line_stops_every_subcommand(env, tmp_path, capsys, dingtalk):
    env_file = tmp_path / "bad.env"
    env_file.write_text("DINGTALK_SECRET SECno-equals-sign-here\n")
    for command in ("validate", "check", "send-test"):
        code, out = cli(command, "--env-file", str(env_file))
        assert code == 2
        assert out == ""
        err = capsys.readouterr().err
        assert err == "shipper-alert: --env-file: line 1 is not NAME=value\n"
        assert "SECno-equals" not in err
    assert dingtalk.received == []


def test_a_misspelt_variable_in_the_env_file_fails_validate_with_a_suggestion(env, tmp_path):
    env_file = tmp_path / "typo.env"
    env_file.write_text("DINGTALK_SECRETT=SECtypo-secret-value\n")
    code, out = cli("validate", "--env-file", str(env_file))
    assert code == 2
    assert (
        "  - DINGTALK_SECRETT: is not a variable shipper-alert reads; "
        "did you mean DINGTALK_SECRET?" in out
    )
    assert "SECtypo-secret-value" not in out


def test_send_test_delivers_a_marked_message_through_the_signed_path(env, dingtalk):
    code, out = cli("send-test")
    assert out == "dingtalk: test message delivered (1 attempt(s))\n"
    assert code == 0
    [request] = dingtalk.received
    assert request.query["sign"]  # signed like a real alert
    text = request.json["markdown"]["text"]
    assert "TEST MESSAGE from shipper-alert send-test" in text
    assert "send-test/test-message/nothing-is-wrong" in text


def test_send_test_reports_a_channel_that_refuses(env, dingtalk):
    env["DINGTALK_SECRET"] = "SECnot-the-robots-secret"
    code, out = cli("send-test")
    assert code == 1
    assert out.startswith("dingtalk: test message NOT delivered: ")
    assert "SECnot-the-robots-secret" not in out
    assert "send-test-token-3a9" not in out


def test_send_test_to_one_channel_only(env, dingtalk):
    webhook = WebhookStandIn().start()
    try:
        env["WEBHOOK_URL"] = webhook.webhook_url
        code, out = cli("send-test", "--channel", "webhook")
        assert (code, out) == (0, "webhook: test message delivered (1 attempt(s))\n")
        assert len(webhook.received) == 1
        assert dingtalk.received == []
    finally:
        webhook.stop()


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (
            "slack",
            "--channel: slack is not configured (SLACK_WEBHOOK_URL is not set; configured: dingtalk)",
        ),
        ("pager", "--channel: 'pager' is not a channel (configured: dingtalk)"),
    ],
)
def test_send_test_to_an_unconfigured_channel_is_an_error(env, dingtalk, capsys, channel, error):
    code, _ = cli("send-test", "--channel", channel)
    assert code == 2
    assert capsys.readouterr().err == f"shipper-alert: {error}\n"
    assert dingtalk.received == []


def test_validate_online_reads_each_target(env):
    env["SHIPPERS"] = "proj-a/logs/good,proj-a/*/*"
    code, out = cli("validate", "--online")
    assert "  proj-a/logs/good: ok: readable: 0 task(s) created in the last hour" in out
    assert "  proj-a/*/*: ok: readable: 1 logstore(s) in proj-a" in out
    assert out.rstrip().endswith("configuration is valid and every target was read")
    assert code == 0


def test_validate_online_names_a_missing_shipper(env):
    env["SHIPPERS"] = "proj-a/logs/good,proj-a/logs/gone"
    code, out = cli("validate", "--online")
    assert code == 2
    assert "  - proj-a/logs/gone: ShipperNotExist: shipper gone does not exist" in out
    assert "no such shipper in the logstore: check the name" in out
    assert "  proj-a/logs/good: ok" in out


def test_validate_online_names_a_wrong_access_key_secret(env):
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "not-the-secret-8d1"
    code, out = cli("validate", "--online")
    assert code == 2
    assert "proj-a/logs/good: FAILED: SignatureNotMatch" in out
    assert "the access key secret is wrong: check ALIBABA_CLOUD_ACCESS_KEY_SECRET" in out
    assert "not-the-secret-8d1" not in out


def test_validate_online_names_a_wrong_access_key_id(env):
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAI-unknown-key"
    code, out = cli("validate", "--online")
    assert code == 2
    assert "proj-a/logs/good: FAILED: Unauthorized" in out
    assert (
        "the access key is wrong: check ALIBABA_CLOUD_ACCESS_KEY_ID and "
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in out
    )
