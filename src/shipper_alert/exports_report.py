"""What one check found for one export job: the result entry and the templates' context.

An `ExportReport` answers the attributes every channel template reads of a shipper's
report (`breached`, `groups`, `error`, `resolved`, `console_url`, ...), so export findings go
through the same templates, views and size limits. Its findings are message groups without
task lines: the status, one group per connector error text (count = metric rows), failed
rows and lag. `summary` replaces the shipper counts line and holds only our own words and
numbers (it is output unescaped by the templates' shared macro).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipper_alert.durations import format_duration
from shipper_alert.exports_evaluate import STATE_TEXT, ExportVerdict, NotRunning
from shipper_alert.exports_settings import ExportRef
from shipper_alert.report import ErrorInfo
from shipper_alert.sls.exports import KIND_MAXCOMPUTE, KIND_OSS, KIND_OSSHDFS, ExportJob

KIND = "export"
KIND_NAMES = {KIND_OSS: "OSS", KIND_MAXCOMPUTE: "MaxCompute", KIND_OSSHDFS: "OSS-HDFS"}
CONSOLE_URL = "https://sls.console.aliyun.com/lognext/project/{project}/logsearch/{logstore}"
PROJECT_URL = "https://sls.console.aliyun.com/lognext/project/{project}/overview"


@dataclass(frozen=True)
class ExportGroup:
    """One finding line: `count`x `message` [`code`]; no task lines."""

    message: str
    code: str | None
    count: int
    tasks: tuple = ()


@dataclass(frozen=True)
class ExportReport:
    ref: ExportRef
    job: ExportJob | None = None
    verdict: ExportVerdict = field(default_factory=ExportVerdict)
    not_running: NotRunning | None = None
    resolved: bool = False
    error: ErrorInfo | None = None
    error_notice_due: bool = False
    window_end: int = 0
    lag_threshold: int = 0
    failed_rows_threshold: int = 0
    kind: str = KIND
    # What a shipper's report has and an export job's never does, for the shared templates.
    failed: int = 0
    succeeded: int = 0
    running: int = 0
    ratio: float | None = None
    failed_tasks: tuple = ()
    stuck_tasks: tuple = ()
    stall: None = None
    retry: None = None
    partial: bool = False
    # The notification policy (export_policy.py): what the previous window showed, and
    # once applied, the state this check sends (None: nothing) and what it holds.
    previous_breached: bool = False
    lasting: NotRunning | None = None  # the job is not running now (due or not)
    previous_causes: frozenset[str] = frozenset()
    state: str | None = None
    held: int = 0
    policed: bool = False

    @property
    def breached(self) -> bool:
        return self.verdict.breached or self.not_running is not None

    @property
    def in_trouble(self) -> bool:
        """For the policy: a metrics breach, or a job that is not running (a lasting state)."""
        return self.breached or self.lasting is not None

    @property
    def firing(self) -> bool:
        """Something is wrong now (as ShipperReport.firing decides for shippers)."""
        return bool(self.breached or (self.error and self.error_notice_due))

    @property
    def has_findings(self) -> bool:
        if self.policed:
            return bool(self.state or (self.error and self.error_notice_due))
        return self.firing or self.resolved

    @property
    def console_url(self) -> str:
        if self.job is None:
            return PROJECT_URL.format(project=self.ref.project)
        return CONSOLE_URL.format(project=self.ref.project, logstore=self.job.logstore)

    @property
    def summary(self) -> str:
        kind = KIND_NAMES.get(self.job.kind, "") if self.job else ""
        verdict = self.verdict
        parts = [f"{verdict.metric_rows} metric rows", f"{verdict.failed_rows} failed rows"]
        parts.append(f"{sum(e.count for e in verdict.errors)} with connector errors")
        if verdict.lag is not None:
            parts.append(f"lag {verdict.lag:g}s to {verdict.lag_max or verdict.lag:g}s")
        label = f"{kind} export job" if kind else "export job"
        return f"{label}: {', '.join(parts)}"

    @property
    def groups(self) -> tuple[ExportGroup, ...]:
        found: list[ExportGroup] = []
        status = self.not_running
        if status is not None:
            since = ""
            if status.since is not None:
                since = f" for {format_duration(max(0, self.window_end - status.since))}"
            reminder = " (reminder)" if status.reminder else ""
            found.append(
                ExportGroup(f"job is {status.status}{since}{reminder}", "JobNotRunning", 1)
            )
        for error in self.verdict.errors:
            text = error.message or "(no error text)"
            found.append(
                ExportGroup(
                    text,
                    f"state {error.state}: {STATE_TEXT.get(error.state, 'error')}",
                    error.count,
                )
            )
        verdict = self.verdict
        if verdict.failed_rows_breached:
            found.append(
                ExportGroup(
                    f"rows failed to export (threshold {self.failed_rows_threshold})",
                    "FailedRows",
                    verdict.failed_rows,
                )
            )
        if verdict.lag_breached:
            found.append(
                ExportGroup(
                    f"lag stayed at or above {format_duration(self.lag_threshold)} all window"
                    f" (lowest {verdict.lag:g}s, highest {verdict.lag_max or verdict.lag:g}s)",
                    "Lag",
                    1,
                )
            )
        return tuple(found)

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        status = self.not_running
        return {
            "project": self.ref.project,
            "job": self.ref.job,
            "type": self.job.kind if self.job else None,
            "logstore": self.job.logstore if self.job else None,
            "status": self.job.status if self.job else None,
            "breached": self.breached,
            "notRunning": None
            if status is None
            else {"status": status.status, "since": status.since, "reminder": status.reminder},
            "connectorErrors": [
                {"message": e.message, "state": e.state, "count": e.count} for e in verdict.errors
            ],
            "failedRows": verdict.failed_rows,
            "lag": verdict.lag,
            "resolved": self.resolved,
            "state": self.state,
            "held": self.held,
            "error": self.error.to_json() if self.error else None,
        }
