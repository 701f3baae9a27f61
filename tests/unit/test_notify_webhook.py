"""The generic webhook document: valid against docs/webhook.schema.json in every shape a
check can take, stable keys for deduplication, and exact counts of what a size limit cuts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timezone
from pathlib import Path

import jsonschema
import pytest

import factories
from shipper_alert.config import Channels
from shipper_alert.evaluate import Stall
from shipper_alert.models import Window
from shipper_alert.notify.registry import build_notifiers
from shipper_alert.notify.webhook.notifier import (
    MAX_BODY_BYTES,
    WebhookNotifier,
    encode_body,
    fingerprint,
    notification_key,
)
from shipper_alert.notify.webhook.settings import WebhookSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, RetryOutcome

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "webhook.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def build(report, max_body_bytes: int = MAX_BODY_BYTES):
    notifier = WebhookNotifier(
        WebhookSettings(Secret("https://hooks.example.com/in/unit-token")),
        max_body_bytes=max_body_bytes,
    )
    try:
        return notifier.build(report, Renderer(None, timezone.utc))
    finally:
        notifier.close()


def validate(document) -> None:
    errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_rejects_what_it_should():
    """The test below could not fail if the schema accepted anything."""
    (message,) = build(factories.report(factories.shipper(failures=[factories.failed("t1")])))
    document = message.payload
    validate(document)
    for broken in (
        {**document, "surprise": 1},
        {**document, "status": "pending"},
        {**document, "window": {**document["window"], "fromIso": "2026-11-28 07:59"}},
        {k: v for k, v in document.items() if k != "groupKey"},
        {**document, "alerts": [{**document["alerts"][0], "fingerprint": "XYZ"}]},
    ):
        assert list(VALIDATOR.iter_errors(broken))


SHAPES = {
    "breached": lambda: factories.report(
        factories.shipper(failures=factories.many_failures(5), stuck_tasks=[factories.stuck("s1")])
    ),
    "resolved only": lambda: factories.report(factories.shipper(resolved=True)),
    "stalled": lambda: factories.report(
        factories.shipper(stall=Stall(factories.WINDOW.start - 7200, factories.WINDOW.start, True))
    ),
    "never a task": lambda: factories.report(
        factories.shipper(stall=Stall(None, factories.WINDOW.start + 5, False))
    ),
    "monitor error": lambda: factories.report(
        factories.shipper(error=ErrorInfo("Unauthorized", "denied", "req-1", 401))
    ),
    "auto retry": lambda: factories.report(
        factories.shipper(
            failures=[factories.failed("t1"), factories.failed("t2")],
            retry=RetryOutcome(("t1", "t2"), True, "RetryShipperTask: Throttling"),
        )
    ),
    "dry run": lambda: factories.report(
        factories.shipper(failures=[factories.failed("t1")]), dry_run=True
    ),
    "hostile": lambda: factories.report(
        factories.shipper(
            failures=[
                factories.failed(f"id-{i}", text, code=None)
                for i, text in enumerate(factories.HOSTILE_MESSAGES)
            ]
        )
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_valid(shape):
    messages = build(SHAPES[shape]())
    assert len(messages) == 1
    validate(messages[0].payload)


def test_document_carries_the_findings():
    failures = [factories.failed("t1", "UnAuthorized"), factories.failed("t2", "NoSuchBucket")]
    report = replace(
        factories.report(factories.shipper(failures=failures, stuck_tasks=[factories.stuck("s1")])),
        function_name="shipper-alert-prod",
        request_id="req-42",
    )
    (message,) = build(report)
    document = message.payload
    assert document["version"] == "1"
    assert document["status"] == "firing"
    assert document["groupKey"] == "shipper-alert/shipper-alert-prod"
    assert document["window"] == {
        "from": factories.WINDOW.start,
        "to": factories.WINDOW.end,
        "fromIso": "2026-11-28T07:59:00Z",
        "toIso": "2026-11-28T08:04:00Z",
        "timezone": "UTC",
    }
    assert document["requestId"] == "req-42"
    assert document["totals"]["failed"] == 2
    assert document["truncatedAlerts"] == 0
    assert document["truncatedTasks"] == 0
    (alert,) = document["alerts"]
    assert (alert["project"], alert["logstore"], alert["shipper"]) == (
        "proj-a",
        "nginx",
        "oss-archive",
    )
    assert alert["status"] == "firing"
    assert alert["counts"] == {"failed": 2, "succeeded": 5, "running": 1, "failureRatio": 2 / 7}
    assert {t["id"]: t["message"] for t in alert["failedTasks"]} == {
        "t1": "UnAuthorized",
        "t2": "NoSuchBucket",
    }
    first = alert["failedTasks"][0]
    assert first["createTime"] == failures[0].create_time
    assert first["alertTimeIso"] == "2026-11-28T07:59:10Z"
    assert [t["id"] for t in alert["stuckTasks"]] == ["s1"]
    assert alert["consoleUrl"].endswith("/project/proj-a/logstore/nginx/shipper/oss-archive")
    assert alert["consoleFallbackUrl"].endswith("/project/proj-a/logsearch/nginx")
    assert document["title"] == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 2 failed tasks, 1 stuck task · "
        "UnAuthorized ×2"
    )


def test_api_text_arrives_unchanged():
    report = SHAPES["hostile"]()
    (message,) = build(report)
    messages = [t["message"] for t in message.payload["alerts"][0]["failedTasks"]]
    assert sorted(messages) == sorted(factories.HOSTILE_MESSAGES)
    assert "中文错误信息".encode() in encode_body(message.payload)  # UTF-8, not \\u-escaped


def test_the_readable_text_is_the_indented_document_made_only_when_read(monkeypatch):
    made = []

    def readable(document):
        made.append(document)
        return json.dumps(document, ensure_ascii=False, indent=2)

    monkeypatch.setattr("shipper_alert.notify.webhook.notifier.readable", readable)
    (message,) = build(SHAPES["hostile"]())
    assert made == []  # building (and sending) never reads it
    indented = json.dumps(message.payload, ensure_ascii=False, indent=2)
    assert message.text == indented
    assert "中文错误信息" in message.text  # as a person reads it, not \u-escaped
    assert message.preview() == {"channel": "webhook", "title": message.title, "text": indented}
    assert made == [message.payload]  # made once, at the first read


def test_resolved_alert_shares_the_firing_alerts_fingerprint():
    firing = build(factories.report(factories.shipper(failures=[factories.failed("t1")])))
    resolved = build(factories.report(factories.shipper(resolved=True)))
    assert resolved[0].payload["status"] == "resolved"
    assert resolved[0].payload["alerts"][0]["status"] == "resolved"
    assert (
        resolved[0].payload["alerts"][0]["fingerprint"]
        == firing[0].payload["alerts"][0]["fingerprint"]
    )


def test_fingerprints_are_stable_and_distinct():
    report = factories.report(factories.shipper(failures=[factories.failed("t1")]))
    one, two = build(report)[0].payload, build(report)[0].payload
    assert one == two
    task = one["alerts"][0]["failedTasks"][0]["fingerprint"]
    assert task == fingerprint("failed", "proj-a", "nginx", "oss-archive", "t1")
    assert task != one["alerts"][0]["fingerprint"]
    other = build(
        factories.report(factories.shipper("proj-b/nginx/oss-archive", [factories.failed("t1")]))
    )
    assert other[0].payload["alerts"][0]["failedTasks"][0]["fingerprint"] != task


def test_notification_key_is_per_window():
    report = factories.report(factories.shipper(failures=[factories.failed("t1")]))
    later = replace(report, window=Window(factories.WINDOW.end, factories.WINDOW.end + 300))
    assert notification_key(report) == notification_key(report)
    assert notification_key(report) != notification_key(later)


def test_a_small_limit_cuts_task_lists_and_counts_what_it_cuts():
    report = factories.report(
        factories.shipper(
            failures=factories.many_failures(300), stuck_tasks=[factories.stuck("s1")]
        ),
        factories.shipper("proj-b/app/oss", failures=factories.many_failures(200)),
    )
    (message,) = build(report, max_body_bytes=60_000)
    document = message.payload
    validate(document)
    assert len(encode_body(document)) <= 60_000
    assert len(encode_body(document)) > 60_000 - 1000  # the budget is used
    shown = sum(len(a["failedTasks"]) + len(a["stuckTasks"]) for a in document["alerts"])
    omitted = sum(a["failedTasksOmitted"] + a["stuckTasksOmitted"] for a in document["alerts"])
    assert 0 < shown < 501
    assert omitted == 501 - shown
    assert document["truncatedTasks"] == omitted
    assert document["totals"]["failed"] == 500
    assert document["totals"]["stuck"] == 1
    for alert in document["alerts"]:
        groups = alert["failedTaskGroups"]
        assert sum(g["shown"] for g in groups) == len(alert["failedTasks"])
        assert sum(g["count"] for g in groups) == alert["counts"]["failed"]


def test_shippers_that_cannot_share_a_post_are_split_with_counts():
    shippers = [
        factories.shipper(
            f"proj-{i:02d}/logs/oss", failures=[factories.failed(f"t-{i}", "x" * 1500)]
        )
        for i in range(30)
    ]
    messages = build(factories.report(*shippers), max_body_bytes=8_000)
    assert len(messages) > 1
    seen = []
    for index, message in enumerate(messages, start=1):
        document = message.payload
        validate(document)
        assert len(encode_body(document)) <= 8_000
        assert (document["part"], document["parts"]) == (index, len(messages))
        assert document["truncatedAlerts"] == 30 - len(document["alerts"])
        assert document["totals"]["breached"] == 30
        assert len({m.payload["notificationKey"] for m in messages}) == 1
        seen += [a["project"] for a in document["alerts"]]
    assert sorted(seen) == [f"proj-{i:02d}" for i in range(30)]


def test_the_registry_builds_it_from_the_settings_alone():
    settings = WebhookSettings(Secret("https://hooks.example.com/in/unit-token"))
    (notifier,) = build_notifiers(Channels(webhook=settings))
    try:
        assert isinstance(notifier, WebhookNotifier)
        assert notifier.name == "webhook"
    finally:
        notifier.close()
