"""Builders of reports and findings for tests of rendering and channels, and of scenarios."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timezone
from typing import Any

from shipper_alert.evaluate import FailedTask, Stall, StuckTask
from shipper_alert.models import ShipperRef, Window
from shipper_alert.report import ErrorInfo, Report, RetryOutcome, ShipperReport

WINDOW = Window(1795852740, 1795853040)  # 2026-11-28 07:59:00 - 08:04:00 UTC


def failed(
    task_id: str, message: str = "UnAuthorized", code: str | None = "UnAuthorized", at: int = 0
):
    finish = WINDOW.start + 10 + at
    return FailedTask(task_id, message, code, finish - 120, finish, finish)


def stuck(task_id: str, created: int | None = None, timeout: int = 3600):
    created = WINDOW.start - timeout + 5 if created is None else created
    return StuckTask(task_id, created, created + timeout)


def shipper(
    name: str = "proj-a/nginx/oss-archive",
    failures=(),
    *,
    succeeded: int = 5,
    running: int = 1,
    stuck_tasks=(),
    stall: Stall | None = None,
    error: ErrorInfo | None = None,
    resolved: bool = False,
    retry: RetryOutcome | None = None,
) -> ShipperReport:
    project, logstore, name_ = name.split("/")
    failures = tuple(failures)
    judged = len(failures) + succeeded
    return ShipperReport(
        ref=ShipperRef(project, logstore, name_),
        failed=len(failures),
        succeeded=succeeded,
        running=running,
        ratio=len(failures) / judged if judged else None,
        breached=bool(failures),
        failed_tasks=failures,
        stuck_tasks=tuple(stuck_tasks),
        stall=stall,
        resolved=resolved,
        error=error,
        error_notice_due=error is not None,
        retry=retry,
    )


def report(
    *shippers: ShipperReport, dry_run: bool = False, tz=timezone.utc, tz_name="UTC"
) -> Report:
    return Report(
        window=WINDOW,
        timezone=tz,
        timezone_name=tz_name,
        shippers=tuple(shippers),
        dry_run=dry_run,
        checked_at=WINDOW.end + 65,
    )


def many_failures(count: int, messages: int = 3) -> tuple[FailedTask, ...]:
    """`count` failed tasks spread over `messages` distinct messages."""
    return tuple(
        failed(
            f"task-{i:05d}",
            f"UnAuthorized: role {i % messages} cannot write bucket",
            "UnAuthorized",
            i % 290,
        )
        for i in range(count)
    )


HOSTILE_MESSAGES = (
    "<script>alert(1)</script>",
    "[click me](http://evil.example/x) ![img](http://evil.example/i.png)",
    "<!channel> <!here> <@U024BE7LH> @all @13800000000",
    '<at user_id="all">所有人</at> <font color="warning">red</font>',
    "**bold** _it_ ~strike~ `code` # heading\n> quote\n- item",
    "&amp; & < > \" '",
    "中文错误信息" * 700,  # 4.2 KB of CJK text, 3 bytes a character
)


def one_shipper_scenario(key_id: str, secret: str, token: str, tasks: list[dict]) -> dict:
    """A simulator scenario: these credentials and proj-a/logs/to-oss with `tasks`."""
    shipper_spec = {"name": "to-oss", "tasks": tasks}
    return {
        "credentials": [{"accessKeyId": key_id, "accessKeySecret": secret, "securityToken": token}],
        "projects": [
            {"name": "proj-a", "logstores": [{"name": "logs", "shippers": [shipper_spec]}]}
        ],
    }


def sim_scenario(
    shippers: dict[str, list[dict[str, Any]]],
    project: str = "proj-a",
    logstore: str = "logs",
    **top: Any,
) -> dict[str, Any]:
    """A simulator scenario of one logstore: shipper name -> its task dicts."""
    return {
        **top,
        "projects": [
            {
                "name": project,
                "logstores": [
                    {
                        "name": logstore,
                        "shippers": [{"name": n, "tasks": t} for n, t in shippers.items()],
                    }
                ],
            }
        ],
    }


def modules_loaded_by(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` are in sys.modules after a fresh interpreter runs `code`."""
    probe = f"{code}\nimport sys\nprint(','.join(n for n in {names!r} if n in sys.modules))"
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return [name for name in out.strip().split(",") if name]


_NOT_TASK_LINES = re.compile(
    r"(?:Example tasks|Retry by hand):[^\n]*"  # the causes' examples; the retry command
    r'|"exampleTaskIds": \[[^\]]*\]'  # the webhook's causes
    r"|Example tasks:.*?</p>|<pre[^>]*>.*?</pre>",  # the same in email HTML
    re.S,
)


def task_lines(text: str) -> str:
    """A message without the ids it names outside its task lines (the causes' examples and
    the retry command), so that counting ids counts the task lines shown."""
    return _NOT_TASK_LINES.sub("", text)
