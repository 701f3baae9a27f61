"""The generic webhook notifier against a recording receiver over real loopback HTTP,
through `deliver_all`; every document received is validated against
docs/webhook.schema.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timezone
from pathlib import Path

import jsonschema
import pytest

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.webhook.notifier import MAX_BODY_BYTES, WebhookNotifier
from shipper_alert.notify.webhook.settings import WebhookSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.webhook import WebhookStandIn

TOKEN = "webhook-test-token-7f3a"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "webhook.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


@pytest.fixture
def standin() -> Iterator[WebhookStandIn]:
    with WebhookStandIn(f"/hooks/shipper-alert/{TOKEN}") as server:
        yield server


@pytest.fixture
def notifier(standin: WebhookStandIn) -> Iterator[WebhookNotifier]:
    webhook = WebhookNotifier(WebhookSettings(Secret(standin.webhook_url)))
    yield webhook
    webhook.close()


def deliver(notifier: WebhookNotifier, report) -> tuple[DeliveryResult, list[float]]:
    sleeps: list[float] = []
    messages = notifier.build(report, Renderer(None, timezone.utc))
    (result,) = deliver_all([(notifier, messages)], Deadline(30), sleep=sleeps.append)
    return result, sleeps


def valid(document) -> dict:
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert not errors, errors
    return document


def one_failure():
    return factories.report(factories.shipper(failures=[factories.failed("task-00001")]))


def test_alert_with_every_failed_id_and_message_is_delivered(standin, notifier):
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "NoSuchBucket", "NoSuchBucket"),
    ]
    report = factories.report(
        factories.shipper(failures=failures),
        factories.shipper("proj-b/app/oss", resolved=True),
    )
    result, sleeps = deliver(notifier, report)
    assert (result.delivered, result.attempts, result.error, sleeps) == (True, 1, None, [])
    (received,) = standin.delivered()
    assert received.headers["content-type"] == "application/json; charset=utf-8"
    document = valid(received.json)
    assert received.headers["idempotency-key"] == f"{document['notificationKey']}-1"
    firing, resolved = document["alerts"]
    assert {t["id"]: (t["message"], t["code"]) for t in firing["failedTasks"]} == {
        "task-00001": ("UnAuthorized: role cannot write bucket", "UnAuthorized"),
        "task-00002": ("NoSuchBucket", "NoSuchBucket"),
    }
    assert (resolved["project"], resolved["status"], resolved["resolved"]) == (
        "proj-b",
        "resolved",
        True,
    )
    assert document["totals"]["failed"] == 2


def test_500_failures_are_all_delivered_within_the_limit(standin, notifier):
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    result, _ = deliver(notifier, report)
    assert result.delivered
    (received,) = standin.delivered()
    document = valid(received.json)
    assert len(received.body) <= MAX_BODY_BYTES
    ids = {t["id"] for t in document["alerts"][0]["failedTasks"]}
    assert ids == {f"task-{i:05d}" for i in range(500)}
    assert document["truncatedTasks"] == 0


def test_500_failures_with_4kb_messages_are_cut_to_1mb_with_exact_counts(standin, notifier):
    big = "中文错误信息" * 700  # 12.6 KB of UTF-8 each
    failures = [
        factories.failed(f"task-{i:05d}", f"{big} #{i % 3}", at=i % 290) for i in range(500)
    ]
    result, _ = deliver(notifier, factories.report(factories.shipper(failures=failures)))
    assert result.delivered
    (received,) = standin.delivered()
    assert MAX_BODY_BYTES - 30_000 < len(received.body) <= MAX_BODY_BYTES
    document = valid(received.json)
    (alert,) = document["alerts"]
    shown = len(alert["failedTasks"])
    assert 0 < shown < 500
    assert alert["failedTasksOmitted"] == 500 - shown
    assert document["truncatedTasks"] == 500 - shown
    assert document["totals"]["failed"] == 500
    assert alert["counts"]["failed"] == 500
    assert [g["count"] for g in alert["failedTaskGroups"]] == [167, 167, 166]
    assert all(t["message"].startswith(big) for t in alert["failedTasks"])  # never cut


def test_hostile_messages_arrive_verbatim_as_json_strings(standin, notifier):
    failures = [
        factories.failed(f"id-{i}", text) for i, text in enumerate(factories.HOSTILE_MESSAGES)
    ]
    result, _ = deliver(notifier, factories.report(factories.shipper(failures=failures)))
    assert result.delivered
    (received,) = standin.delivered()
    document = valid(received.json)
    messages = {t["id"]: t["message"] for t in document["alerts"][0]["failedTasks"]}
    assert messages == {f"id-{i}": text for i, text in enumerate(factories.HOSTILE_MESSAGES)}
    # JSON-encoded: the raw line breaks and quotes cannot end a string or forge a field.
    assert b'"**bold** _it_ ~strike~ `code` # heading\\n> quote\\n- item"' in received.body


@pytest.mark.parametrize(
    "failure", [Reply(503, "unavailable"), Reply(500, "oops"), Reply(drop=True)]
)
def test_server_errors_and_dropped_connections_are_retried(standin, notifier, failure):
    standin.fail_next(failure)
    result, sleeps = deliver(notifier, one_failure())
    assert (result.delivered, result.attempts, len(sleeps)) == (True, 2, 1)
    assert len(standin.delivered()) == 1
    first, second = standin.received
    assert first.body == second.body
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 302])
def test_other_statuses_are_permanent_and_secret_free(standin, notifier, status):
    standin.fail_next(Reply(status, "no", {"Location": "https://elsewhere.example/"}))
    result, sleeps = deliver(notifier, one_failure())
    assert (result.delivered, result.attempts, sleeps) == (False, 1, [])
    assert len(standin.received) == 1
    error = result.error or ""
    assert f"HTTP {status}" in error
    assert error.startswith(f"webhook (http://127.0.0.1:{standin.port}/hooks/***)")
    assert TOKEN not in error


@pytest.mark.parametrize("status", [202, 204])
def test_any_2xx_is_delivered(status):
    with WebhookStandIn(status=status) as server:
        webhook = WebhookNotifier(WebhookSettings(Secret(server.webhook_url)))
        try:
            result, _ = deliver(webhook, one_failure())
        finally:
            webhook.close()
    assert (result.delivered, result.attempts) == (True, 1)


def test_a_receiver_with_a_smaller_limit_refuses_with_413_not_retried():
    with WebhookStandIn(max_body=1_000) as server:
        webhook = WebhookNotifier(WebhookSettings(Secret(server.webhook_url)))
        try:
            result, _ = deliver(webhook, one_failure())
        finally:
            webhook.close()
        assert (result.delivered, result.attempts) == (False, 1)
        assert "HTTP 413" in (result.error or "")
        assert len(server.received[0].body) > 1_000


def test_a_smaller_configured_limit_is_kept(standin):
    webhook = WebhookNotifier(WebhookSettings(Secret(standin.webhook_url)), max_body_bytes=30_000)
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    try:
        result, _ = deliver(webhook, report)
    finally:
        webhook.close()
    assert result.delivered
    (received,) = standin.delivered()
    assert len(received.body) <= 30_000
    document = valid(received.json)
    shown = len(document["alerts"][0]["failedTasks"])
    assert document["truncatedTasks"] == 500 - shown > 0
