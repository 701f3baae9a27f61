"""What one check found: per-shipper reports and the run's report, the typed context of
every template and the source of the result JSON (contract, "Result and failure").

Templates never see raw API JSON, only these objects; times are epoch seconds here and are
shown in ALERT_TIMEZONE by the renderer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from shipper_alert.evaluate import FailedTask, Stall, StuckTask
from shipper_alert.models import ShipperRef, Window

CONSOLE_URL = "https://sls.console.aliyun.com/lognext/project/{project}/logsearch/{logstore}"


@dataclass(frozen=True)
class ErrorInfo:
    """Why a shipper could not be read (after retries); never holds a secret."""

    code: str
    message: str
    request_id: str | None = None
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "requestId": self.request_id,
            "status": self.status,
        }


@dataclass(frozen=True)
class RetryOutcome:
    """What AUTO_RETRY did for a shipper's reported failed tasks."""

    task_ids: tuple[str, ...]
    requested: bool  # False on a dry run
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.requested and self.error is None


@dataclass(frozen=True)
class MessageGroup:
    """Failed tasks sharing one error message."""

    message: str
    code: str | None
    tasks: tuple[FailedTask, ...]

    @property
    def count(self) -> int:
        return len(self.tasks)


def group_by_message(tasks: tuple[FailedTask, ...]) -> tuple[MessageGroup, ...]:
    """Identical messages grouped, the largest group first, then by first occurrence."""
    groups: OrderedDict[str, list[FailedTask]] = OrderedDict()
    for task in tasks:
        groups.setdefault(task.message, []).append(task)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return tuple(
        MessageGroup(message, members[0].code, tuple(members)) for message, members in ordered
    )


@dataclass(frozen=True)
class Found:
    """What a check found for a shipper (the result), when its message carries other things."""

    breached: bool
    failed_ids: tuple[str, ...]
    stuck_ids: tuple[str, ...]
    stalled: bool


@dataclass(frozen=True)
class ShipperReport:
    ref: ShipperRef
    failed: int = 0
    succeeded: int = 0
    running: int = 0
    ratio: float | None = None
    breached: bool = False
    failed_tasks: tuple[FailedTask, ...] = ()  # reported: the window breached
    stuck_tasks: tuple[StuckTask, ...] = ()
    stall: Stall | None = None
    resolved: bool = False
    error: ErrorInfo | None = None
    error_notice_due: bool = False  # the monitor-error notice goes out in this check
    partial: bool = False  # the read failed after some tasks were already evaluated
    retry: RetryOutcome | None = None
    # Set by the notification policy (policy.py, notices.py): what this message carries
    # differs from what the check found, which `found` keeps for the result.
    history: Any = None  # window_views.History, for the policy only
    state: str | None = None  # FIRING, STILL FAILING, RESOLVED; None: nothing to send
    held: int = 0  # findings that wait for a later message
    refailed: int = 0  # notified tasks that failed again after an SLS retry (ledger)
    found: Found | None = None

    @property
    def console_url(self) -> str:
        return CONSOLE_URL.format(project=self.ref.project, logstore=self.ref.logstore)

    @property
    def groups(self) -> tuple[MessageGroup, ...]:
        return group_by_message(self.failed_tasks)

    @property
    def firing(self) -> bool:
        """Something is wrong now: the one place "firing" (not "resolved") is decided."""
        return bool(
            self.breached
            or self.stuck_tasks
            or self.stall
            or (self.error and self.error_notice_due)
        )

    @property
    def has_findings(self) -> bool:
        """Something in this report is to be sent now (the policy's state, once applied)."""
        if self.found is not None:
            return bool(self.state or (self.error and self.error_notice_due))
        return self.firing or self.resolved

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = self.ref.to_json()
        found = self.found or Found(
            self.breached,
            tuple(task.id for task in self.failed_tasks),
            tuple(task.id for task in self.stuck_tasks),
            self.stall is not None,
        )
        body.update(
            {
                "failed": self.failed,
                "succeeded": self.succeeded,
                "running": self.running,
                "breached": found.breached,
                "failedTaskIds": list(found.failed_ids),
                "stuckTaskIds": list(found.stuck_ids),
                "stalled": found.stalled,
                "resolved": self.resolved,
                "error": self.error.to_json() if self.error else None,
                "state": self.state,
                "held": self.held,
            }
        )
        return body


@dataclass(frozen=True)
class Totals:
    shippers: int
    breached: int
    failed: int
    stuck: int
    stalled: int
    errors: int
    resolved: int
    exports: int = 0  # export jobs with findings (not counted in the shipper totals above)


@dataclass(frozen=True)
class Report:
    """The run's findings: the context every channel template renders."""

    window: Window
    timezone: tzinfo
    timezone_name: str
    shippers: tuple[ShipperReport, ...]
    dry_run: bool = False
    function_name: str | None = None
    request_id: str | None = None
    checked_at: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. "custom template failed"
    exports: tuple = ()  # exports_report.ExportReport, found beside the shippers
    label: str = "shipper-alert"  # ALERT_LABEL: names this deployment in titles
    account_id: str | None = None  # the FC context's, for the footer
    region: str | None = None  # the FC context's, else the SLS endpoint's

    @property
    def findings(self) -> tuple[ShipperReport, ...]:
        """The shippers with something to send, most urgent first."""

        def rank(report: ShipperReport) -> tuple[int, str]:
            if report.error and report.error_notice_due:
                order = 1
            elif report.breached:
                order = 0
            elif report.stuck_tasks or report.stall:
                order = 2
            else:
                order = 3
            return order, str(report.ref)

        targets = (*self.shippers, *self.exports)
        return tuple(sorted((r for r in targets if r.has_findings), key=rank))

    @property
    def totals(self) -> Totals:
        exports = sum(1 for r in self.findings if not isinstance(r, ShipperReport))
        findings = tuple(r for r in self.findings if isinstance(r, ShipperReport))
        return Totals(
            shippers=len(self.shippers),
            breached=sum(1 for r in findings if r.breached),
            failed=sum(len(r.failed_tasks) for r in findings),
            stuck=sum(len(r.stuck_tasks) for r in findings),
            stalled=sum(1 for r in findings if r.stall),
            errors=sum(1 for r in findings if r.error and r.error_notice_due),
            resolved=sum(1 for r in self.findings if r.resolved),  # shippers and export jobs
            exports=exports,
        )

    @property
    def state(self) -> str:
        """The most urgent policy state among the findings (FIRING without a policy)."""
        states = {r.state for r in self.findings}
        return next((s for s in ("FIRING", "STILL FAILING", "RESOLVED") if s in states), "FIRING")

    @property
    def only_resolved(self) -> bool:
        return all(r.resolved and not r.firing for r in self.findings)

    @property
    def has_findings(self) -> bool:
        return bool(self.findings)
