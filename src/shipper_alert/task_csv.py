"""Every failed task as CSV, for the email attachment: the full list a message leaves out.

One row a task: target, task id, cause key, code, message and its times in ALERT_TIMEZONE
(ISO 8601 with the offset, so the zone is in every cell). UTF-8 with a byte-order mark and
CRLF line ends (RFC 4180), which spreadsheet programs open with CJK messages intact. A
cell that a spreadsheet would run as a formula (starting with = + - @ or a control
character) gets a leading apostrophe, so API text cannot run anything when opened.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
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


def failed_tasks_csv(
    failures: Mapping[str, Sequence[FailedTask]], tz: tzinfo, max_bytes: int | None = None
) -> tuple[bytes, int]:
    """The CSV of every failed task (UTF-8), targets and tasks in the order given, and the
    number of task rows in it: with `max_bytes`, whole rows up to that size only."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    header = out.tell()
    rows = list(_rows(failures, tz))
    writer.writerows(rows)
    text = out.getvalue()
    data = text.encode("utf-8")
    if max_bytes is None or len(data) <= max_bytes:
        return data, len(rows)
    # Too big (rare): write again, row by row, to know where each row ends.
    out.seek(header)
    out.truncate()
    ends = [header]  # where each row ends, in characters
    for row in rows:
        writer.writerow(row)
        ends.append(out.tell())
    kept = bisect.bisect_right(ends, max_bytes, key=lambda end: len(text[:end].encode()))
    return text[: ends[max(kept - 1, 0)]].encode("utf-8"), max(kept - 1, 0)


def _rows(failures: Mapping[str, Sequence[FailedTask]], tz: tzinfo) -> Iterator[tuple]:
    times: dict[int, str] = {}
    causes: dict[tuple, str] = {}  # many tasks share a code and message

    def when(epoch: int) -> str:
        if epoch not in times:
            times[epoch] = datetime.fromtimestamp(epoch, tz).isoformat() if epoch > 0 else ""
        return times[epoch]

    for target, tasks in failures.items():
        where = _cell(target)
        for task in tasks:
            cause = (task.code, task.message)
            if cause not in causes:
                causes[cause] = _cell(cause_key(task.code, task.message))
            yield (
                where,
                _cell(task.id),
                causes[cause],
                _cell(task.code or ""),
                _cell(task.message),
                when(task.create_time),
                when(task.finish_time),
                when(task.alert_time),
            )
