"""Export-job findings through the shared views, templates and the webhook document."""

from __future__ import annotations

import json
from dataclasses import replace

import factories
from shipper_alert.exports_evaluate import ConnectorError, ExportVerdict, NotRunning
from shipper_alert.exports_report import ExportReport
from shipper_alert.exports_settings import ExportRef
from shipper_alert.report import ErrorInfo
from shipper_alert.sls.exports import ExportJob
from unit.test_notify_webhook import build, validate

WINDOW = factories.WINDOW
JOB = ExportJob("shop-prod", "export-oss-1", "oss", "nginx", "STOPPED", WINDOW.start - 7200)
VERDICT = ExportVerdict(
    errors=(ConnectorError("write oss failed, AccessDenied <b>", 2, 6, WINDOW.start + 60),),
    failed_rows=42,
    lag=400.0,
    lag_max=900.5,
    metric_rows=20,
    failed_rows_breached=True,
    lag_breached=True,
)


def export_report(**changes) -> ExportReport:
    base = ExportReport(
        ExportRef("shop-prod", "export-oss-1"),
        job=JOB,
        verdict=VERDICT,
        not_running=NotRunning("STOPPED", JOB.modified_time, WINDOW.start + 30, True, True),
        window_end=WINDOW.end,
        lag_threshold=300,
        failed_rows_threshold=1,
    )
    return replace(base, **changes)


def test_the_webhook_document_of_an_export_job_is_valid_and_complete():
    report = factories.report()
    report = replace(report, exports=(export_report(),))

    (message,) = build(report)

    document = message.payload
    validate(document)
    (alert,) = document["alerts"]
    assert alert["kind"] == "export"
    assert (alert["project"], alert["job"], alert["jobStatus"]) == (
        "shop-prod",
        "export-oss-1",
        "STOPPED",
    )
    assert alert["connectorErrors"] == [
        {"message": "write oss failed, AccessDenied <b>", "state": 2, "count": 6}
    ]
    assert (alert["failedRows"], alert["lag"], alert["lagMax"]) == (42, 400.0, 900.5)
    assert alert["notRunning"]["reminder"] is True
    assert document["totals"]["exports"] == 1
    assert document["totals"]["breached"] == 0  # shipper totals do not count export jobs


def test_an_export_job_monitor_error_is_valid_in_the_webhook_document():
    error = ErrorInfo("LogStoreNotExist", "cannot read the job operational logs", "rid", 404)
    report = replace(
        factories.report(),
        exports=(export_report(verdict=ExportVerdict(), not_running=None, error=error,
                               error_notice_due=True),),
    )  # fmt: skip

    (message,) = build(report)

    validate(message.payload)
    assert message.payload["alerts"][0]["error"]["code"] == "LogStoreNotExist"
    assert message.payload["alerts"][0]["status"] == "firing"


def test_groups_have_no_task_lines_and_the_summary_only_our_words():
    report = export_report()

    assert [(g.count, g.code) for g in report.groups] == [
        (1, "JobNotRunning"),
        (6, "state 2: failed, progress blocked"),
        (42, "FailedRows"),
        (1, "Lag"),
    ]
    assert all(g.tasks == () for g in report.groups)
    assert report.groups[0].message == "job is STOPPED for 2h5m (reminder)"
    assert report.summary == (
        "OSS export job: 20 metric rows, 42 failed rows, 6 with connector errors,"
        " lag 400s to 900.5s"
    )


def every_channel():
    from shipper_alert.notify.dingtalk.settings import DingTalkSettings  # noqa: PLC0415
    from shipper_alert.notify.email.settings import EmailSettings  # noqa: PLC0415
    from shipper_alert.notify.feishu.settings import FeishuSettings  # noqa: PLC0415
    from shipper_alert.notify.registry import Channels  # noqa: PLC0415
    from shipper_alert.notify.slack.settings import SlackSettings  # noqa: PLC0415
    from shipper_alert.notify.webhook.settings import WebhookSettings  # noqa: PLC0415
    from shipper_alert.notify.wecom.settings import WeComSettings  # noqa: PLC0415
    from shipper_alert.redact import Secret  # noqa: PLC0415

    url = Secret("https://hooks.example.com/in/token")
    return Channels(
        dingtalk=DingTalkSettings(url, None, (), False),
        slack=SlackSettings(url),
        wecom=WeComSettings(url, ()),
        feishu=FeishuSettings(url, None),
        webhook=WebhookSettings(url),
        email=EmailSettings(
            ("ops@example.com",), "alert@example.com", "smtp", "smtp.example.com", 465, "ssl",
            None, None, None,
        ),
    )  # fmt: skip


def test_every_channel_renders_an_export_job_with_its_findings_and_escaped_text():
    from datetime import timezone  # noqa: PLC0415

    from shipper_alert.notify.registry import build_notifiers  # noqa: PLC0415
    from shipper_alert.render import Renderer  # noqa: PLC0415

    report = replace(factories.report(), exports=(export_report(),))
    notifiers = build_notifiers(every_channel())
    try:
        for notifier in notifiers:
            (message,) = notifier.build(report, Renderer(None, timezone.utc))
            payload = message.payload
            if notifier.name == "email":
                html = payload.get_body(("html",)).get_content()
                assert "AccessDenied &lt;b&gt;" in html
                payload = payload.get_body(("plain",)).get_content()
            shown = json.dumps(payload, ensure_ascii=False) + (message.text or "")
            assert "export-oss-1" in shown, notifier.name
            assert "STOPPED" in shown, notifier.name
            assert "write oss failed, AccessDenied" in shown, notifier.name
            if notifier.name != "webhook":
                assert "OSS export job: 20 metric rows" in shown, notifier.name
            assert "more task" not in shown, notifier.name
    finally:
        for notifier in notifiers:
            notifier.close()
