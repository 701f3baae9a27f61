"""The Slack notifier against the Slack stand-in over real loopback HTTP, through
`deliver_all` (retries with an injected sleep, so no test waits through a back-off)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timezone

import pytest

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.base import DeliveryFailure, Outgoing
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.slack.notifier import SlackNotifier
from shipper_alert.notify.slack.settings import SlackSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.slack import SlackStandIn

TOKEN = "slack-test-token"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(f"/services/T0000TEST/B0000TEST/{TOKEN}") as server:
        yield server


@pytest.fixture
def notifier(standin: SlackStandIn) -> Iterator[SlackNotifier]:
    slack = SlackNotifier(SlackSettings(Secret(standin.webhook_url)))
    yield slack
    slack.close()


def deliver(notifier: SlackNotifier, report) -> tuple[DeliveryResult, list[float]]:
    sleeps: list[float] = []
    messages = notifier.build(report, Renderer(None, timezone.utc))
    (result,) = deliver_all([(notifier, messages)], Deadline(30), sleep=sleeps.append)
    return result, sleeps


def sections(payload) -> str:
    return "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")


def test_alert_with_every_failed_id_and_message_is_delivered(standin, notifier):
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "NoSuchBucket: the bucket does not exist", "NoSuchBucket"),
        factories.failed("task-00003", "UnAuthorized: role cannot write bucket", at=7),
    ]
    result, sleeps = deliver(notifier, factories.report(factories.shipper(failures=failures)))
    assert (result.delivered, result.attempts, result.error) == (True, 1, None)
    assert sleeps == []
    (received,) = standin.delivered()
    assert received.headers["content-type"] == "application/json; charset=utf-8"
    payload = received.json
    assert payload["text"].startswith(
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 3 failed tasks · "
    )
    body = sections(payload)
    for task in failures:
        assert f"`{task.id}`" in body
    assert "*2×* `UnAuthorized: role cannot write bucket`" in body
    assert "*1×* `NoSuchBucket: the bucket does not exist`" in body


def test_rate_limited_attempt_is_retried_after_retry_after_and_delivered_once(standin, notifier):
    standin.rate_limit_next(retry_after=7)
    result, sleeps = deliver(
        notifier, factories.report(factories.shipper(failures=[factories.failed("task-00001")]))
    )
    assert (result.delivered, result.attempts) == (True, 2)
    assert sleeps == [7.0]
    assert len(standin.received) == 2
    assert len(standin.delivered()) == 1
    assert standin.received[0].body == standin.received[1].body


def test_rollup_error_is_retried(standin, notifier):
    standin.fail_next(Reply(500, "rollup_error"))
    result, sleeps = deliver(
        notifier, factories.report(factories.shipper(failures=[factories.failed("t1")]))
    )
    assert (result.delivered, result.attempts, len(sleeps)) == (True, 2, 1)
    assert len(standin.delivered()) == 1


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (404, "no_service", "check SLACK_WEBHOOK_URL"),
        (404, "channel_not_found", "no longer exists"),
        (410, "channel_is_archived", "archived"),
        (403, "action_prohibited", "admin"),
        (400, "invalid_payload", "BUG"),
    ],
)
def test_permanent_rejection_is_not_retried_and_explained(standin, notifier, status, code, hint):
    standin.fail_next(Reply(status, code))
    result, sleeps = deliver(
        notifier, factories.report(factories.shipper(failures=[factories.failed("t1")]))
    )
    assert (result.delivered, result.attempts, sleeps) == (False, 1, [])
    assert len(standin.received) == 1
    assert result.error is not None
    assert f"HTTP {status}: {code}" in result.error
    assert hint in result.error
    assert result.error.startswith(f"slack (http://127.0.0.1:{standin.port}/services/***)")
    assert TOKEN not in result.error
    assert "B0000TEST" not in result.error


def test_a_2xx_without_ok_is_not_success(standin, notifier):
    standin.fail_next(Reply(200, "<html>proxy login</html>"))
    result, _ = deliver(
        notifier, factories.report(factories.shipper(failures=[factories.failed("t1")]))
    )
    assert (result.delivered, result.attempts) == (True, 2)
    assert len(standin.delivered()) == 1


def test_wrong_path_is_no_service(standin):
    wrong = SlackNotifier(
        SlackSettings(Secret(f"{standin.url}/services/T0000TEST/B0000TEST/other"))
    )
    try:
        result, _ = deliver(
            wrong, factories.report(factories.shipper(failures=[factories.failed("t1")]))
        )
    finally:
        wrong.close()
    assert not result.delivered
    assert result.attempts == 1
    assert "HTTP 404: no_service" in (result.error or "")


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "divider"}] * 51,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        [{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5,  # total
    ],
)
def test_the_standin_refuses_what_slack_refuses(standin, notifier, blocks):
    outgoing = Outgoing("slack", "t", "t", {"text": "fallback", "blocks": blocks})
    with pytest.raises(DeliveryFailure) as caught:
        notifier.send(outgoing, timeout=5)
    assert caught.value.retryable is False
    assert re.search(r"HTTP 400: (invalid_blocks|msg_blocks_too_long)", caught.value.detail)
    assert standin.delivered() == []
