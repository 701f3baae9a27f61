"""The Feishu/Lark notifier against the Feishu stand-in over real loopback HTTP, through
`deliver_all`. Time is a fake clock shared by the notifier (signing), the stand-in
(signature check) and the delivery's sleep, so retries move it without waiting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timezone

import pytest

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.base import DeliveryFailure, Outgoing
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.feishu.notifier import FeishuNotifier
from shipper_alert.notify.feishu.settings import FeishuSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.feishu import FeishuStandIn, expected_sign, nodes

TOKEN = "feishu-test-hook-token-0123"
SECRET = "orbit-test-secret"
START = 1795853105.0
TASK_ID = re.compile(r"task-\d{5}")


class FakeClock:
    """Epoch seconds that move only when the delivery sleeps."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin(clock: FakeClock) -> Iterator[FeishuStandIn]:
    with FeishuStandIn(TOKEN, secret=SECRET, clock=clock) as server:
        yield server


def make_notifier(url: str, secret: str | None, clock: FakeClock) -> FeishuNotifier:
    return FeishuNotifier(
        FeishuSettings(Secret(url), Secret(secret) if secret else None), clock=clock
    )


@pytest.fixture
def notifier(standin: FeishuStandIn, clock: FakeClock) -> Iterator[FeishuNotifier]:
    feishu = make_notifier(standin.webhook_url, SECRET, clock)
    yield feishu
    feishu.close()


def deliver(notifier: FeishuNotifier, report, clock: FakeClock, **kwargs) -> DeliveryResult:
    messages = notifier.build(report, Renderer(None, timezone.utc))
    (result,) = deliver_all([(notifier, messages)], Deadline(30), sleep=clock.sleep, **kwargs)
    return result


def text_of(body) -> str:
    return "\n".join(node.get("text", "") for node in nodes(body))


def one_failure():
    return factories.report(factories.shipper(failures=[factories.failed("task-00001")]))


def test_signed_alert_with_every_failed_id_and_message_is_delivered(standin, notifier, clock):
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "NoSuchBucket: 指定的存储空间不存在", "NoSuchBucket"),
        factories.failed("task-00003", "UnAuthorized: role cannot write bucket", at=7),
    ]
    result = deliver(notifier, factories.report(factories.shipper(failures=failures)), clock)
    assert (result.delivered, result.attempts, result.error) == (True, 1, None)
    (received,) = standin.delivered()
    body = received.json
    assert body["timestamp"] == str(int(START))
    assert body["sign"] == expected_sign(SECRET, str(int(START)))
    assert body["msg_type"] == "post"
    text = text_of(body)
    for task in failures:
        assert f"- {task.id}  created" in text
    assert "2× UnAuthorized: role cannot write bucket [UnAuthorized]" in text
    assert "1× NoSuchBucket: 指定的存储空间不存在 [NoSuchBucket]" in text
    assert "指定的存储空间不存在".encode() in received.body  # UTF-8, as measured


def test_500_failures_fit_20000_bytes_as_the_standin_measures_them(standin, notifier, clock):
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    result = deliver(notifier, report, clock)
    assert result.delivered
    (received,) = standin.delivered()
    assert 20_000 - 200 < len(received.body) <= 20_000
    text = text_of(received.json)
    shown = set(TASK_ID.findall(factories.task_lines(text)))
    assert 0 < len(shown) < 500
    assert f"and {500 - len(shown)} more not shown (the counts above are complete)" in text
    assert "BREACHED: 500 failed, 5 succeeded, 1 running" in text
    title = received.json["content"]["post"]["zh_cn"]["title"]
    assert title.startswith("[shipper-alert] FIRING: proj-a/nginx/oss-archive — 500 failed tasks")


def test_rate_limit_is_retried_with_a_fresh_signature_and_delivered_once(standin, notifier, clock):
    standin.rate_limit_next()
    result = deliver(notifier, one_failure(), clock, rng=lambda low, high: high)
    assert (result.delivered, result.attempts) == (True, 2)
    assert clock.sleeps == [1.0]
    first, second = (r.json for r in standin.received)
    assert int(second["timestamp"]) == int(first["timestamp"]) + 1  # signed per attempt
    assert second["sign"] == expected_sign(SECRET, second["timestamp"])
    assert len(standin.delivered()) == 1


def test_http_429_frequency_limit_is_retried_after_retry_after(standin, notifier, clock):
    standin.fail_next(
        Reply(
            429, {"code": 99991400, "msg": "request trigger frequency limit"}, {"Retry-After": "9"}
        )
    )
    result = deliver(notifier, one_failure(), clock)
    assert (result.delivered, result.attempts) == (True, 2)
    assert clock.sleeps == [9.0]


def test_server_error_is_retried(standin, notifier, clock):
    standin.fail_next(Reply(502, "bad gateway"))
    result = deliver(notifier, one_failure(), clock)
    assert (result.delivered, result.attempts) == (True, 2)


def test_wrong_secret_is_refused_not_retried_and_explained(standin, clock):
    wrong = make_notifier(standin.webhook_url, "not-the-secret", clock)
    try:
        result = deliver(wrong, one_failure(), clock)
    finally:
        wrong.close()
    assert (result.delivered, result.attempts) == (False, 1)
    assert len(standin.received) == 1
    error = result.error or ""
    assert "code 19021: sign match fail" in error
    assert "FEISHU_SECRET" in error
    assert error.startswith(f"feishu (http://127.0.0.1:{standin.port}/open-apis/***)")
    for secret in (TOKEN, "not-the-secret", SECRET):
        assert secret not in error


def test_clock_more_than_an_hour_off_is_refused(standin, clock):
    late = FakeClock(START - 3601)
    stale = make_notifier(standin.webhook_url, SECRET, late)
    try:
        result = deliver(stale, one_failure(), clock)
    finally:
        stale.close()
    assert (result.delivered, result.attempts) == (False, 1)
    assert "code 19021" in (result.error or "")


def test_unsigned_message_to_a_signing_bot_is_refused(standin, clock):
    unsigned = make_notifier(standin.webhook_url, None, clock)
    try:
        result = deliver(unsigned, one_failure(), clock)
    finally:
        unsigned.close()
    assert not result.delivered
    assert "code 19021" in (result.error or "")


def test_unsigned_bot_with_keyword_security_accepts_our_messages(clock):
    with FeishuStandIn(TOKEN, keywords=("shipper-alert",), clock=clock) as server:
        feishu = make_notifier(server.webhook_url, None, clock)
        try:
            result = deliver(feishu, one_failure(), clock)
        finally:
            feishu.close()
        assert result.delivered
        assert "timestamp" not in server.delivered()[0].json


def test_missing_keyword_is_not_retried(clock):
    with FeishuStandIn(TOKEN, keywords=("告警",), clock=clock) as server:
        feishu = make_notifier(server.webhook_url, None, clock)
        try:
            result = deliver(feishu, one_failure(), clock)
        finally:
            feishu.close()
        assert (result.delivered, result.attempts) == (False, 1)
        assert "code 19024: Key Words Not Found" in (result.error or "")


def test_wrong_token_is_not_retried(standin, clock):
    wrong = make_notifier(f"{standin.url}/open-apis/bot/v2/hook/other-token", SECRET, clock)
    try:
        result = deliver(wrong, one_failure(), clock)
    finally:
        wrong.close()
    assert (result.delivered, result.attempts) == (False, 1)
    assert "code 19001" in (result.error or "")


@pytest.mark.parametrize("code", [9499, 19036])
def test_the_standin_refuses_a_body_over_20000_bytes(clock, code):
    with FeishuStandIn(TOKEN, clock=clock, oversize_code=code) as server:
        feishu = make_notifier(server.webhook_url, None, clock)
        big = {
            "msg_type": "post",
            "content": {
                "post": {
                    "zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "中" * 6700}]]}
                }
            },
        }
        try:
            with pytest.raises(DeliveryFailure) as caught:
                feishu.send(Outgoing("feishu", "t", "t", big), timeout=5)
        finally:
            feishu.close()
        assert caught.value.retryable is False
        assert f"code {code}" in caught.value.detail
        assert len(server.received[0].body) > 20_000


def test_the_standin_refuses_a_malformed_post(standin, notifier):
    bad = {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": "t", "content": [[{"tag": "at"}]]}}},
    }
    with pytest.raises(DeliveryFailure) as caught:
        notifier.send(Outgoing("feishu", "t", "t", bad), timeout=5)
    assert caught.value.retryable is False
    assert "code 9499: Bad Request" in caught.value.detail


def test_http_429_with_only_the_gateway_reset_header_waits_for_the_reset(standin, notifier, clock):
    standin.fail_next(
        Reply(
            429,
            {"code": 99991400, "msg": "request trigger frequency limit"},
            {"x-ogw-ratelimit-reset": "4"},
        )
    )
    result = deliver(notifier, one_failure(), clock)
    assert (result.delivered, result.attempts) == (True, 2)
    assert clock.sleeps == [4.0]
