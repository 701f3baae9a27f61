"""Email: every failed task the message reports, as an attached CSV (task_csv.py).

The message shows a few task lines per cause; the attachment is the full list, capped at
MAX_ATTACHMENT_BYTES of CSV (whole rows, the message says how many are in it). It goes on
the first message of an alert split into parts. Why 2 MiB: docs/vendors.md, "Email".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shipper_alert.report import Report, ShipperReport
from shipper_alert.task_csv import failed_tasks_csv

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    rows: int  # failed tasks in the file
    total: int  # failed tasks the message reports

    def note(self, part: int) -> str:
        """The line that tells the reader of message `part` where the full list is."""
        where = f"the attached {self.filename}"
        if part != 1:
            where += ", sent with part 1 of this alert"
        if self.rows == self.total:
            return f"Every failed task ({self.total}) is in {where}."
        return (
            f"The first {self.rows} of {self.total} failed tasks are in {where}"
            f" (it is limited to {MAX_ATTACHMENT_BYTES // 2**20} MiB; the function's result"
            " lists every task id)."
        )


def failed_tasks_attachment(report: Report, date: datetime) -> Attachment | None:
    """The CSV of every failed task in `report`'s findings; None when there is none."""
    failures = {
        str(r.ref): r.failed_tasks
        for r in report.findings
        if isinstance(r, ShipperReport) and r.failed_tasks
    }
    if not failures:
        return None
    data, rows = failed_tasks_csv(failures, date.tzinfo, MAX_ATTACHMENT_BYTES)
    total = sum(len(tasks) for tasks in failures.values())
    return Attachment(f"failed-tasks-{date:%Y%m%dT%H%M}.csv", data, rows, total)
