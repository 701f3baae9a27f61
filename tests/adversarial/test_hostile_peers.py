"""Whatever a peer does, an invocation returns before FC's timeout, within 128 MB, with the
other targets and channels delivered and no secret in any log line, result or message.

Each case runs the FC handler in a child process (`child.py`, DEBUG logging) against
loopback peers: an SLS whose shipper `bad` misbehaves while `good` has one failed task,
a chat channel (Slack) that misbehaves while the generic webhook works, a hostile SMTP
server, or runaway custom templates. Times and peak memory are collected for the table
`conftest.py` prints at the end of the run.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import hostile_peers as peers
from hostile import (
    HostileServer,
    compressed_bomb,
    endless,
    reply,
    response,
    silent,
    trickle,
)
from shipper_alert_dev.standins.slack import SlackStandIn
from shipper_alert_dev.standins.webhook import WebhookStandIn

TIMEOUT = 6.0  # context.function.timeout of every case
MEMORY_LIMIT_KB = 128 * 1024  # FC's default memory
CHILD = Path(__file__).with_name("child.py")

ACCESS_KEY_SECRET = "adv-AK-secret-0123456789abcdef"
SECURITY_TOKEN = "CAISadvSTStoken0123456789+/abcdefXYZ"
SLACK_TOKEN = "slack-path-token-0123456789"
WEBHOOK_TOKEN = "webhook-path-token-987654321"
SMTP_PASSWORD = "smtp-pass-adv-0042"
SMTP_USER = "alerts@adv.example"
ACCESS_KEY_ID = "AKIDadversarial01"  # not secret, but never printed whole either
SECRETS = (
    ACCESS_KEY_SECRET,
    SECURITY_TOKEN,
    SLACK_TOKEN,
    WEBHOOK_TOKEN,
    SMTP_PASSWORD,
    ACCESS_KEY_ID,
)


def forms(value: str) -> list[str]:
    """Every way a text may quote `value`: as is, base64, repr, URL-quoted."""
    return [
        value,
        base64.b64encode(value.encode()).decode(),
        repr(value)[1:-1],
        urllib.parse.quote(value, safe=""),
    ]


LEAKS = [form for secret in SECRETS for form in forms(secret)] + [
    base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()
]


@dataclass
class Case:
    name: str
    sls_bad: Callable[[int], Any] | None = None  # window start -> behaviour for `bad`
    chat: Callable[[], Any] | None = None  # makes the behaviour of the Slack endpoint
    smtp: dict[str, Any] | None = None  # SmtpPeer options
    templates: dict[str, str] = field(default_factory=dict)
    bad_error: str | None = None  # expected error code of shipper `bad`
    failing_channel: str | None = None  # the channel expected undelivered
    slack_works: bool = False  # add a working Slack stand-in, expected delivered
    bad_failed: int | None = None  # failed tasks expected reported for shipper `bad`


NESTED = b"[" * 1000 + b"]" * 1000

CASES = [
    Case("SLS nested 1,000 deep", lambda w: reply(NESTED), bad_error="BadResponse"),
    Case("SLS 100 MB endless body", lambda w: endless(), bad_error="BadResponse"),
    Case(
        "SLS gzip bomb (200 MB inflated)",
        lambda w: compressed_bomb(200 << 20),
        bad_error="BadResponse",
    ),
    Case(
        "SLS headers trickled 1 B/0.2 s",
        lambda w: trickle(peers.page([]), 0.2),
        bad_error="Timeout",
    ),
    Case("SLS never answers", lambda w: silent(), bad_error="Timeout"),
    Case("SLS ignores offset", peers.offset_ignoring, bad_error="BadResponse"),
    Case("SLS reorders pages", peers.reordering, bad_error="IncompleteRead"),
    Case(
        "SLS 300 distinct 10 KB messages",
        peers.distinct_long_messages,
        slack_works=True,
        bad_failed=300,
    ),
    Case(
        "SLS echoes the STS token",
        lambda w: peers.sls_echoing_secrets,
        bad_error="SignatureNotMatch",
    ),
    Case("chat reply nested", chat=lambda: reply(NESTED), failing_channel="slack"),
    Case("chat reply 100 MB", chat=endless, failing_channel="slack"),
    Case(
        "chat reply deflate bomb",
        chat=lambda: compressed_bomb(200 << 20, "deflate"),
        failing_channel="slack",
    ),
    Case(
        "chat reply trickled", chat=lambda: trickle(response(b"ok"), 0.2), failing_channel="slack"
    ),
    Case("chat never answers", chat=silent, failing_channel="slack"),
    Case("chat echoes its URL", chat=lambda: peers.chat_echoing_secrets, failing_channel="slack"),
    Case("SMTP greeting trickled", smtp={"trickle": 0.2}, failing_channel="email"),
    Case("SMTP echoes AUTH", smtp={}, failing_channel="email"),
    Case(
        "template: nested ranges",
        templates=dict.fromkeys(
            ("slack.text.j2", "slack.header.j2", "slack.intro.j2", "slack.shipper.j2"),
            "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",
        ),
    ),
    Case(
        "template: 'x' * 10**9",
        templates={"slack.text.j2": "{{ 'x' * 10**9 }}", "slack.intro.j2": "{{ 9 ** (9**9) }}"},
    ),
]


def window() -> tuple[int, int]:
    end = (int(time.time()) - 120) // 60 * 60
    return end - 300, end


def run_case(case: Case, tmp_path: Path) -> dict[str, Any]:
    start, end = window()
    servers: list[Any] = []
    good_chat = WebhookStandIn(path=f"/hooks/{WEBHOOK_TOKEN}").start()
    try:
        sls = peers.sls_server(case.sls_bad(start) if case.sls_bad else reply(b"{}"), start)
        servers.append(sls)
        shippers = f"{peers.PROJECT}/{peers.LOGSTORE}/good"
        if case.sls_bad:
            shippers += f" {peers.PROJECT}/{peers.LOGSTORE}/bad"
        env = {
            "PATH": "/usr/bin:/bin",
            "TMPDIR": str(tmp_path),
            "SLS_ENDPOINT": sls.url,
            "SHIPPERS": shippers,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "ALIBABA_CLOUD_SECURITY_TOKEN": SECURITY_TOKEN,
            "WEBHOOK_URL": good_chat.webhook_url,
            "LOG_LEVEL": "DEBUG",
        }
        if case.chat is not None:
            slack = HostileServer(case.chat()).start()
            servers.append(slack)
            env["SLACK_WEBHOOK_URL"] = f"{slack.url}/services/T0/B0/{SLACK_TOKEN}"
        if case.smtp is not None:
            smtp = peers.SmtpPeer(**case.smtp)
            servers.append(smtp)
            env.update(
                EMAIL_TO="ops@adv.example",
                EMAIL_FROM="alerts@adv.example",
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(smtp.port),
                SMTP_SECURITY="none",
                SMTP_USERNAME=SMTP_USER,
                SMTP_PASSWORD=SMTP_PASSWORD,
            )
        if case.templates or case.slack_works:
            slack_ok = SlackStandIn(path=f"/services/T0/B0/{SLACK_TOKEN}").start()
            servers.append(slack_ok)
            env["SLACK_WEBHOOK_URL"] = slack_ok.webhook_url
        if case.templates:
            folder = tmp_path / "templates"
            folder.mkdir()
            for name, source in case.templates.items():
                (folder / name).write_text(source)
            env["TEMPLATE_DIR"] = str(folder)
        event = json.dumps({"from": start, "to": end})
        done = subprocess.run(  # noqa: S603 - our own child script, with our own arguments
            [sys.executable, str(CHILD), event, str(TIMEOUT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT + 30,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        assert lines, f"the child printed nothing; stderr:\n{done.stderr[-3000:]}"
        outcome = json.loads(lines[-1])
        outcome["stderr"] = done.stderr
        outcome["stdout"] = done.stdout
        outcome["delivered"] = [r.body.decode("utf-8", "replace") for r in good_chat.delivered()]
        return outcome
    finally:
        good_chat.stop()
        for server in servers:
            server.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_peer_cannot_crash_hang_bloat_or_leak(case: Case, tmp_path, adversarial_table):
    outcome = run_case(case, tmp_path)
    adversarial_table.append((case.name, outcome["elapsed"], outcome["peak_kb"] / 1024))
    result = outcome["result"]

    assert outcome["error"] is None, outcome["stderr"][-3000:]
    assert outcome["elapsed"] < TIMEOUT, outcome["stderr"][-3000:]  # before FC's timeout
    assert outcome["peak_kb"] < MEMORY_LIMIT_KB
    by_name = {s["shipper"]: s for s in result["shippers"]}
    assert by_name["good"]["error"] is None
    assert by_name["good"]["failedTaskIds"] == ["task-00000"]
    if case.bad_error:
        assert by_name["bad"]["error"]["code"] == case.bad_error
    if case.bad_failed is not None:
        assert by_name["bad"]["error"] is None
        assert len(set(by_name["bad"]["failedTaskIds"])) == case.bad_failed
    channels = {n["channel"]: n for n in result["notifications"]}
    assert channels["webhook"]["delivered"] is True  # the other channel went out
    assert len(outcome["delivered"]) == 1
    if case.failing_channel:
        assert channels[case.failing_channel]["delivered"] is False
    if case.templates or case.slack_works:
        assert channels["slack"]["delivered"] is True, channels["slack"]
    if case.templates:
        assert "custom template" in outcome["stderr"]
    assert result["ok"] is False or not (case.bad_error or case.failing_channel)
    everything = outcome["stdout"] + outcome["stderr"] + "".join(outcome["delivered"])
    leaked = [form for form in LEAKS if form in everything]
    assert leaked == []
