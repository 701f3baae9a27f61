"""A sample alert to look at: 400 failed tasks over 4 causes and 2 shippers, as each
channel renders it (the email's HTML for the screenshots and the first-screen test)."""

from __future__ import annotations

from datetime import timezone

from shipper_alert.evaluate import FailedTask
from shipper_alert.history import TimelineCounter, choose_interval
from shipper_alert.models import TASK_FAIL, TASK_SUCCESS, ShipperRef, Window
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.render import Renderer
from shipper_alert.report import Report, ShipperReport

WINDOW = Window(1795852740, 1795853040)  # 2026-11-28 07:59:00 - 08:04:00 UTC
CAUSES = (
    ("UnAuthorized", "write to table=shop_dw.nginx_access denied for role AliyunLogDefaultRole"),
    ("InvalidOssBucket", "bucket shop-archive-hz does not exist in cn-hangzhou"),
    (None, "ODPS-0123031: partition ds=20261128 is locked by another job"),
    ("InternalServerError", "internal error, request id 5F3A9C1D2B7E4A00"),
)


def _failures(prefix: str, count: int, offset: int) -> tuple[FailedTask, ...]:
    tasks = []
    for i in range(count):
        code, message = CAUSES[(i + offset) % len(CAUSES)]
        finish = WINDOW.start + 10 + i % 280
        tasks.append(FailedTask(f"{prefix}-{i:05d}", message, code, finish - 120, finish, finish))
    return tuple(tasks)


LOOKBACK = 6 * 3600


def _timeline(name: str, failures: tuple[FailedTask, ...]):
    """Six hours of 4 successes every 5 minutes, then this window's failures."""
    interval = choose_interval(WINDOW.length + LOOKBACK, 300)
    counter = TimelineCounter(name, WINDOW, LOOKBACK, interval)
    for minute in range(5, LOOKBACK // 60, 5):
        for n in range(4):
            counter.add(TASK_SUCCESS, WINDOW.start - minute * 60 + n)
    for task in failures:
        counter.add(TASK_FAIL, task.finish_time)
    return counter.result()


def _shipper(name: str, failures: tuple[FailedTask, ...]) -> ShipperReport:
    project, logstore, shipper = name.split("/")
    return ShipperReport(
        timeline=_timeline(name, failures),
        ref=ShipperRef(project, logstore, shipper),
        failed=len(failures),
        succeeded=40,
        running=2,
        ratio=len(failures) / (len(failures) + 40),
        breached=True,
        failed_tasks=failures,
        state="FIRING",
    )


def sample_report() -> Report:
    return Report(
        window=WINDOW,
        timezone=timezone.utc,
        timezone_name="UTC",
        shippers=(
            _shipper("shop-prod/nginx-access/oss-archive", _failures("oss", 300, 0)),
            _shipper("shop-prod/orders/to-odps", _failures("odps", 100, 2)),
        ),
        function_name="shipper-alert",
        request_id="1-6745a3c2-0b1c2d3e4f",
        checked_at=WINDOW.end + 65,
        label="shipper-alert (cn-hangzhou)",
        account_id="1234567890123456",
        region="cn-hangzhou",
    )


def sample_email_settings() -> EmailSettings:
    """SMTP settings that build a message (nothing is sent with them)."""
    return EmailSettings(
        to=("oncall@example.com",),
        sender="shipper-alert <alerts@example.com>",
        transport="smtp",
        smtp_host="mail.example.com",
        smtp_port=465,
        smtp_security="ssl",
        smtp_username=None,
        smtp_password=None,
        ses_region=None,
    )


def sample_email_html() -> str:
    """The text/html part of the sample alert's email, as it would be sent."""
    settings = sample_email_settings()
    report = sample_report()
    [outgoing] = EmailNotifier(settings).build(report, Renderer(None, report.timezone))
    [html] = [p for p in outgoing.payload.walk() if p.get_content_type() == "text/html"]
    return html.get_content()
