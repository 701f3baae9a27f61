"""DingTalk robot end to end: notifier -> delivery -> the loopback DingTalk stand-in.

Assertions are on what the stand-in received and accepted and on the delivery results.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator

import pytest
import requests

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.dingtalk.notifier import DingTalkNotifier
from shipper_alert.notify.dingtalk.settings import DingTalkSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn, expected_sign

TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET = "SECd1f0e2c3b4a5968778695a4b3c2d1e0f"
KEYWORD = "shipper-alert"
NOW = 1795853105.0  # the factories' check time: 2026-11-28 08:05:05 UTC


class FakeClock:
    """Wall-clock time for signing, moving one second each time it is read."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def robot() -> Iterator[DingTalkStandIn]:
    with DingTalkStandIn(TOKEN, secret=SECRET, keywords=(KEYWORD,), clock=lambda: NOW) as standin:
        yield standin


def make_notifier(
    standin: DingTalkStandIn,
    *,
    url: str | None = None,
    secret: str | None = SECRET,
    mobiles: tuple[str, ...] = (),
    at_all: bool = False,
    clock=None,
) -> DingTalkNotifier:
    settings = DingTalkSettings(
        webhook_url=Secret(url or standin.webhook_url),
        secret=Secret(secret) if secret else None,
        at_mobiles=mobiles,
        at_all=at_all,
    )
    return DingTalkNotifier(settings, clock=clock or FakeClock())


def deliver(notifier: DingTalkNotifier, report: Report) -> tuple[DeliveryResult, list[float]]:
    sleeps: list[float] = []
    messages = notifier.build(report, Renderer(None, report.timezone))
    try:
        [result] = deliver_all([(notifier, messages)], Deadline(30), sleep=sleeps.append)
    finally:
        notifier.close()
    return result, sleeps


def text_of(body: dict) -> str:
    return body["markdown"]["text"]


def test_alert_carries_every_failed_task_signed_with_mentions(robot: DingTalkStandIn) -> None:
    failures = (
        factories.failed("task-a1", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-a2", "UnAuthorized: role cannot write bucket", at=30),
        factories.failed("task-b1", "InternalServerError: OSS timed out", "InternalError", 60),
    )
    report = factories.report(factories.shipper("proj-a/nginx/oss-archive", failures))
    notifier = make_notifier(robot, mobiles=("13800000000", "+852-12345678"))

    result, sleeps = deliver(notifier, report)

    assert (result.delivered, result.attempts, result.error) == (True, 1, None)
    assert sleeps == []
    [request] = robot.received
    assert robot.delivered() == [request]  # the stand-in checked token, signature, keyword
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    body = request.json
    assert body["msgtype"] == "markdown"
    text = text_of(body)
    for task_id in ("task-a1", "task-a2", "task-b1"):
        assert task_id in text
    assert "**2×** `UnAuthorized: role cannot write bucket`" in text
    assert "**1×** `InternalServerError: OSS timed out` (code `InternalError`)" in text
    assert "3 failed, 5 succeeded, 1 running" in text
    assert "2026-11-28 07:59:00 to 08:04:00 UTC" in text
    assert "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx" in text
    assert body["markdown"]["title"].startswith(
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 3 failed tasks · "
    )
    assert body["at"] == {"atMobiles": ["13800000000", "+852-12345678"], "isAtAll": False}
    assert text.endswith("@13800000000 @+852-12345678")


def cjk_failures(count: int, messages: int) -> tuple:
    """Failures whose messages are CJK: 3 bytes a character, 6 if JSON-escaped."""
    return tuple(
        factories.failed(
            f"task-{i:05d}", f"写入存储桶失败，角色{i % messages}没有写权限。" * 4, at=i % 290
        )
        for i in range(count)
    )


@pytest.mark.parametrize(
    ("failures", "group_counts"),
    [
        (factories.many_failures(500), ("**167×**", "**166×**")),
        (cjk_failures(500, 20), ("**25×**",)),
    ],
    ids=["ascii", "cjk"],
)
def test_500_failures_fit_the_body_limit_with_exact_counts(
    robot: DingTalkStandIn, failures: tuple, group_counts: tuple
) -> None:
    report = factories.report(factories.shipper(failures=failures))

    result, _ = deliver(make_notifier(robot, mobiles=("13800000000",)), report)

    assert (result.delivered, result.attempts) == (True, 1)
    [request] = robot.delivered()
    # As the stand-in measures it, and filled: within one task line of the limit.
    assert 20000 - 100 < len(request.body) <= 20000
    text = text_of(request.json)
    assert "500 failed tasks in 1 shipper" in text
    assert "500 failed, 5 succeeded, 1 running" in text
    shown = set(re.findall(r"task-\d{5}", factories.task_lines(text)))
    assert 0 < len(shown) < 500
    assert f"**and {500 - len(shown)} more not shown**" in text
    for count in group_counts:
        assert count in text  # message groups stay, with their full counts


def test_rate_limited_first_attempt_is_retried_and_delivered_once(
    robot: DingTalkStandIn,
) -> None:
    robot.rate_limit_next()
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, sleeps = deliver(make_notifier(robot), report)

    assert (result.delivered, result.attempts, result.error) == (True, 2, None)
    assert len(robot.received) == 2
    assert len(robot.delivered()) == 1
    # 20 a minute is one each 3 s; the throttle reply asked for 5 s.
    assert len(sleeps) == 1
    assert sleeps[0] >= 5
    # Signed at send time: the retry carries a fresh timestamp and a valid signature.
    first, second = (r.query["timestamp"][0] for r in robot.received)
    assert int(second) > int(first)


def test_server_error_and_dropped_connection_are_retried(robot: DingTalkStandIn) -> None:
    robot.fail_next(Reply(502, "bad gateway"))
    robot.fail_next(Reply(drop=True))
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, sleeps = deliver(make_notifier(robot), report)

    assert (result.delivered, result.attempts) == (True, 3)
    assert len(robot.delivered()) == 1
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("options", "errcode", "says"),
    [
        ({"url_token": "wrong-token-0000"}, "300001", "token is not exist"),
        ({"secret": "SECnot-the-robots-secret"}, "310000", "sign not match"),
        ({"secret": None}, "310000", "sign not match"),
        ({"skew": -7200.0}, "310000", "invalid timestamp"),
    ],
)
def test_permanent_rejection_is_not_retried_and_reported_without_secrets(
    robot: DingTalkStandIn, options: dict, errcode: str, says: str, caplog
) -> None:
    caplog.set_level("INFO")
    url = robot.webhook_url
    if "url_token" in options:
        url = url.replace(TOKEN, options["url_token"])
    notifier = make_notifier(
        robot,
        url=url,
        secret=options.get("secret", SECRET),
        clock=FakeClock(NOW + options.get("skew", 0.0)),
    )
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, sleeps = deliver(notifier, report)

    assert (result.delivered, result.attempts) == (False, 1)
    assert len(robot.received) == 1
    assert sleeps == []
    assert result.error is not None
    assert f"errcode {errcode}: {says}" in result.error
    assert result.error.startswith(f"dingtalk (http://127.0.0.1:{robot.port}/robot/***?***)")
    for secret in (TOKEN, SECRET, options.get("url_token"), options.get("secret")):
        if secret:
            assert secret not in result.error
            assert secret not in caplog.text


def test_keyword_is_carried_by_the_template_and_missing_keyword_is_explained() -> None:
    report = factories.report(factories.shipper("proj-b/l/s", resolved=True))
    with DingTalkStandIn(TOKEN, keywords=(KEYWORD,)) as plain:
        result, _ = deliver(make_notifier(plain, secret=None), report)
        assert result.delivered
        assert KEYWORD in text_of(plain.messages()[0])
    with DingTalkStandIn(TOKEN, keywords=("other-keyword",)) as strict:
        result, _ = deliver(make_notifier(strict, secret=None), report)
        assert (result.delivered, result.attempts) == (False, 1)
        assert result.error is not None
        assert "errcode 310000: keywords not in content" in result.error
        assert "keyword must appear in the message text" in result.error


def test_message_too_long_is_reported_as_a_bug_and_not_retried(
    robot: DingTalkStandIn, caplog
) -> None:
    robot.fail_next(Reply(200, {"errcode": 460101, "errmsg": "message too long"}))
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, _ = deliver(make_notifier(robot), report)

    assert (result.delivered, result.attempts) == (False, 1)
    assert result.error is not None
    assert "errcode 460101" in result.error
    assert "BUG in shipper-alert" in result.error
    assert "size fitting" in caplog.text


# -- the stand-in itself checks what DingTalk documents --------------------------------------
def _post(standin: DingTalkStandIn, query: str, body: bytes) -> dict:
    response = requests.post(
        f"{standin.url}/robot/send?{query}",
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()


MARKDOWN = b'{"msgtype":"markdown","markdown":{"title":"t","text":"shipper-alert x"}}'


def test_standin_verifies_the_documented_signature_encoded_once(robot: DingTalkStandIn) -> None:
    timestamp = str(int(NOW * 1000))
    signature = expected_sign(SECRET, timestamp)
    assert "+" in signature or "/" in signature or "=" in signature
    once = urllib.parse.quote_plus(signature)  # the official sample
    twice = urllib.parse.quote_plus(once)
    base = f"access_token={TOKEN}&timestamp={timestamp}"
    assert _post(robot, f"{base}&sign={once}", MARKDOWN) == {"errcode": 0, "errmsg": "ok"}
    assert _post(robot, f"{base}&sign={twice}", MARKDOWN)["errmsg"] == "sign not match"
    stale = str(int((NOW - 3601) * 1000))
    stale_sign = urllib.parse.quote_plus(expected_sign(SECRET, stale))
    reply = _post(robot, f"access_token={TOKEN}&timestamp={stale}&sign={stale_sign}", MARKDOWN)
    assert reply == {"errcode": 310000, "errmsg": "invalid timestamp"}


def test_standin_refuses_oversized_and_malformed_bodies() -> None:
    with DingTalkStandIn(TOKEN) as standin:
        query = f"access_token={TOKEN}"
        padding = b"x" * (20000 - len(MARKDOWN))
        exact = MARKDOWN.replace(b"shipper-alert x", b"shipper-alert x" + padding)
        assert len(exact) == 20000
        assert _post(standin, query, exact)["errcode"] == 0
        assert _post(standin, query, exact.replace(b" x", b" xx"))["errcode"] == 460101
        no_title = b'{"msgtype":"markdown","markdown":{"text":"x"}}'
        assert _post(standin, query, no_title)["errcode"] == 40035
        assert _post(standin, query, b'{"msgtype":"nope"}')["errcode"] == 400105
