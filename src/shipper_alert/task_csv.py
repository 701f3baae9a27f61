"""Every failed task as CSV, for the email attachment: the full list a message leaves out.

One row a task: target, task id, cause key, code, message and its times in ALERT_TIMEZONE
(ISO 8601 with the offset, so the zone is in every cell). UTF-8 with a byte-order mark and
CRLF line ends (RFC 4180), which spreadsheet programs open with CJK messages intact. A
cell that a spreadsheet would run as a formula (starting with = + - @ or a control
character) gets a leading apostrophe, so API text cannot run anything when opened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from shipper_alert.causes import cause_key
from shipper_alert.evaluate import FailedTask

COLUMNS = (
    "target",
    "task_id",
    "cause",
    "code",
    "message",
    "created",
    "finished",
    "alerted",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _time(epoch: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, tz).isoformat() if epoch > 0 else ""


def failed_tasks_csv(
    failures: Mapping[str, Sequence[FailedTask]], tz: tzinfo, max_bytes: int | None = None
) -> tuple[bytes, int]:
    """The CSV of every failed task (UTF-8), targets and tasks in the order given, and the
    number of task rows in it: with `max_bytes`, whole rows up to that size only."""
    row = io.StringIO()
    writer = csv.writer(row, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    chunks = [("\ufeff" + row.getvalue()).encode("utf-8")]
    size, rows = len(chunks[0]), 0
    for target, tasks in failures.items():
        for task in tasks:
            row.seek(0)
            row.truncate()
            writer.writerow(
                _cell(value)
                for value in (
                    target,
                    task.id,
                    cause_key(task.code, task.message),
                    task.code or "",
                    task.message,
                    _time(task.create_time, tz),
                    _time(task.finish_time, tz),
                    _time(task.alert_time, tz),
                )
            )
            data = row.getvalue().encode("utf-8")
            if max_bytes is not None and size + len(data) > max_bytes:
                return b"".join(chunks), rows
            chunks.append(data)
            size, rows = size + len(data), rows + 1
    return b"".join(chunks), rows
