"""Pure evaluation of one export job: its status and its connector metrics -> findings.

The rules are the contract's "Export jobs":
- a job whose `status` is not RUNNING is due at `since + k * REMIND_INTERVAL` (k = 0, 1, ...),
  `since` being its lastModifiedTime (or, unknown, whole multiples of REMIND_INTERVAL since
  the epoch); STARTING, RESTARTING and STOPPING only after TRANSITION_GRACE, because the
  vendor's job framework passes through them on every start and restart
  (https://alibabacloud.com/help/zh/sls/developer-reference/api-sls-2020-12-30-struct-etl);
  SUCCEEDED is healthy for a job with an end time (toTime != 0), and any other value is
  reported as it came;
- metric rows in the window with state > 0 are connector errors, grouped by error text;
- failed rows: `sum(failed)` over the window's rows (ingest and deliver, as Alibaba's
  "fail lines" template) at or above EXPORT_FAILED_ROWS_THRESHOLD;
- lag: the smallest `lags` of the window's ingest rows at or above EXPORT_LAG_THRESHOLD, so
  the job stayed behind over the whole window (rows are written each minute,
  https://alibabacloud.com/help/en/sls/user-guide/log-types).
Nothing here reads a clock or the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipper_alert.models import Window
from shipper_alert.sls.exports import ExportJob, MetricGroup

STATUS_RUNNING = "RUNNING"
STATUS_SUCCEEDED = "SUCCEEDED"
TRANSITIONAL = frozenset({"STARTING", "RESTARTING", "STOPPING"})
KNOWN_STATUSES = frozenset({STATUS_RUNNING, STATUS_SUCCEEDED, "STOPPED", "FAILED", *TRANSITIONAL})
TRANSITION_GRACE = 600
ACTION_INGEST = "ingest"
STATE_TEXT = {1: "errors that may slow the job down", 2: "failed, progress blocked"}


@dataclass(frozen=True)
class NotRunning:
    status: str
    since: int | None  # lastModifiedTime, when the job reports one
    due_time: int
    reminder: bool
    known: bool  # one of the vendor's documented values


@dataclass(frozen=True)
class ConnectorError:
    message: str | None  # the connector's error text; None when the row has none
    state: int  # the worst state of its rows
    count: int  # metric rows (one per task, action and minute)
    last_time: int | None


@dataclass(frozen=True)
class ExportVerdict:
    not_running: NotRunning | None = None
    errors: tuple[ConnectorError, ...] = ()
    failed_rows: int = 0
    lag: float | None = None  # smallest lag of the window's ingest rows, seconds
    lag_max: float | None = None
    metric_rows: int = 0
    failed_rows_breached: bool = False
    lag_breached: bool = False

    @property
    def breached(self) -> bool:
        """The metrics breach in this window (status findings are episodes, not breaches)."""
        return bool(self.errors) or self.failed_rows_breached or self.lag_breached


def status_finding(job: ExportJob, window: Window, remind_interval: int) -> NotRunning | None:
    """The not-running finding due in `window`, if any."""
    status = job.status
    if status == STATUS_RUNNING or (status == STATUS_SUCCEEDED and job.to_time):
        return None
    since = job.modified_time
    if since is not None and since >= window.end:
        since = None  # a clock ahead of ours says nothing about when
    grace = TRANSITION_GRACE if status in TRANSITIONAL else 0
    first = 0 if since is None else since + grace
    if first >= window.end:
        return None
    k = 0 if remind_interval <= 0 else max(0, -(-(window.start - first) // remind_interval))
    due = max(first, window.start) if remind_interval <= 0 else first + k * remind_interval
    if not window.contains(due):
        return None
    return NotRunning(status, since, due, k > 0 or since is None, status in KNOWN_STATUSES)


def metrics_verdict(
    job: ExportJob,
    groups: Iterable[MetricGroup],
    lag_threshold: int,
    failed_rows_threshold: int,
) -> ExportVerdict:
    """What one window's metric groups say about `job` (groups of other jobs are skipped)."""
    errors: dict[str | None, ConnectorError] = {}
    failed = rows = 0
    lag: float | None = None
    lag_max: float | None = None
    for group in groups:
        if group.job != job.name or group.project not in ("", job.project):
            continue
        rows += group.rows
        failed += group.failed
        if group.state > 0:
            known = errors.get(group.error)
            errors[group.error] = ConnectorError(
                group.error,
                max(group.state, known.state if known else 0),
                group.rows + (known.count if known else 0),
                _latest(group.last_time, known.last_time if known else None),
            )
        if group.action == ACTION_INGEST and group.lag_min is not None:
            lag = group.lag_min if lag is None else min(lag, group.lag_min)
            top = group.lag_max if group.lag_max is not None else group.lag_min
            lag_max = top if lag_max is None else max(lag_max, top)
    ordered = sorted(errors.values(), key=lambda e: (-e.count, -e.state, e.message or ""))
    return ExportVerdict(
        errors=tuple(ordered),
        failed_rows=failed,
        lag=lag,
        lag_max=lag_max,
        metric_rows=rows,
        failed_rows_breached=failed >= failed_rows_threshold,
        lag_breached=lag is not None and lag >= lag_threshold,
    )


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
