"""One check of the export jobs: expand `project/*`, read every job and its diagnostic logs
concurrently, evaluate, and the migration hint for legacy shippers that are gone.

The diagnostic logstore is queried once per check window for all the jobs it holds (and
once more for the window before, for "resolved"), not once per job. A job that cannot be
read, or whose diagnostic logs cannot be, becomes a monitor error; every other job is still
checked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from shipper_alert.export_policy import causes
from shipper_alert.exports_evaluate import metrics_verdict, status_finding
from shipper_alert.exports_report import ExportReport
from shipper_alert.exports_settings import DiagnosticLogstore, ExportRef, ExportSettings
from shipper_alert.models import Window
from shipper_alert.report import ErrorInfo, ShipperReport
from shipper_alert.sls.errors import SlsError
from shipper_alert.sls.exports import ExportJob, ExportReader, MetricGroup

log = logging.getLogger(__name__)

# The codes that mean "the operational logs are not there or not readable by this role".
UNREADABLE_CODES = frozenset(
    {"LogStoreNotExist", "ProjectNotExist", "IndexConfigNotExist", "Unauthorized"}
)
ENABLE_HINT = (
    "Export jobs write their health to the {logstore} logstore only when job operational logs"
    " are on: in the SLS console open project {project}, Service Logs, and enable 'Job"
    " Operational Logs' (https://alibabacloud.com/help/en/sls/user-guide/use-service-logs-monitor-sls);"
    " if they go to another project, set DIAGNOSTIC_LOGSTORE=project/internal-diagnostic_log;"
    " the function's role needs log:GetLogStoreLogs on that logstore."
)
MIGRATION_HINT = "this shipper was replaced by export job {job}; add it to EXPORTS ({ref})"


@dataclass(frozen=True)
class _Metrics:
    current: list[MetricGroup] | None
    previous: list[MetricGroup] | None
    error: ErrorInfo | None


def _error_info(exc: SlsError, message: str | None = None) -> ErrorInfo:
    return ErrorInfo(exc.code, message or exc.message, exc.request_id or None, exc.status)


def _jobs(
    reader: ExportReader, refs: Iterable[ExportRef], pool: ThreadPoolExecutor
) -> tuple[list[tuple[ExportRef, ExportJob | None, SlsError | None]], list[ExportReport]]:
    errors: list[ExportReport] = []
    found: dict[ExportRef, ExportJob] = {}
    single: list[ExportRef] = []
    for ref in dict.fromkeys(refs):
        if not ref.is_pattern:
            single.append(ref)
            continue
        try:
            for job in reader.list_jobs(ref.project):
                found.setdefault(ExportRef(ref.project, job.name), job)
        except SlsError as exc:
            log.warning("cannot list the export jobs of %s: %s", ref.project, exc)
            errors.append(ExportReport(ref, error=_error_info(exc)))

    def get(ref: ExportRef) -> tuple[ExportRef, ExportJob | None, SlsError | None]:
        try:
            return ref, reader.get_job(ref.project, ref.job), None
        except SlsError as exc:
            return ref, None, exc

    results = [(ref, job, None) for ref, job in found.items()]
    results += list(pool.map(get, [r for r in single if r not in found]))
    return results, errors


def _read_metrics(
    reader: ExportReader, store: DiagnosticLogstore, window: Window, with_previous: bool
) -> _Metrics:
    previous = None
    try:
        current = reader.connector_metrics(store.project, store.logstore, window.start, window.end)
        if with_previous:
            before = window.previous()
            previous = reader.connector_metrics(
                store.project, store.logstore, before.start, before.end
            )
    except SlsError as exc:
        log.warning("cannot read the diagnostic logs in %s: %s", store, exc)
        message = f"cannot read the job operational logs in {store}: {exc.message}"
        if exc.code in UNREADABLE_CODES or exc.status in (401, 403):
            message += ". " + ENABLE_HINT.format(project=store.project, logstore=store.logstore)
        return _Metrics(None, None, _error_info(exc, message))
    return _Metrics(current, previous, None)


def run_export_checks(
    reader: ExportReader,
    settings: ExportSettings,
    window: Window,
    remind_interval: int,
    notify_resolved: bool,
    workers: int = 8,
) -> list[ExportReport]:
    """Read and evaluate every export job of `settings` (patterns expanded), sorted."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
        jobs, reports = _jobs(reader, settings.exports, pool)
        stores = sorted(
            {settings.diagnostics_for(ref.project) for ref, job, _ in jobs if job is not None},
            key=str,
        )
        # The previous window: for resolved, and for the stateless notification policy.
        reads = pool.map(lambda s: _read_metrics(reader, s, window, True), stores)
        metrics = dict(zip(stores, reads, strict=True))
    for ref, job, error in jobs:
        base = ExportReport(
            ref,
            job=job,
            window_end=window.end,
            lag_threshold=settings.lag_threshold,
            failed_rows_threshold=settings.failed_rows_threshold,
        )
        if job is None:
            assert error is not None
            log.warning("cannot read export job %s: %s", ref, error)
            reports.append(replace(base, error=_error_info(error)))
            continue
        read = metrics[settings.diagnostics_for(ref.project)]
        status = status_finding(job, window, remind_interval)
        if read.current is None:
            reports.append(replace(base, not_running=status, error=read.error))
            continue
        thresholds = (settings.lag_threshold, settings.failed_rows_threshold)
        verdict = metrics_verdict(job, read.current, *thresholds)
        previous = metrics_verdict(job, read.previous or [], *thresholds)
        resolved = notify_resolved and previous.breached and not verdict.breached and status is None
        # What the previous window showed, for the stateless notification policy; a job
        # not running is in trouble in every window (REMIND_INTERVAL 0), its line paced.
        lasting = status_finding(job, window, 0)
        was = status_finding(job, window.previous(), 0)
        before = replace(base, verdict=previous, not_running=was, lasting=was)
        reports.append(
            replace(
                base,
                verdict=verdict,
                not_running=status,
                resolved=resolved,
                lasting=lasting,
                previous_breached=before.in_trouble,
                previous_causes=frozenset(causes(before)),
            )
        )
    return sorted(reports, key=lambda r: str(r.ref))


def migration_hints(reader: ExportReader, reports: list[ShipperReport]) -> list[ShipperReport]:
    """ShipperNotExist errors that name the export job now reading the same logstore."""
    result = []
    for report in reports:
        error = report.error
        if error is None or error.code != "ShipperNotExist":
            result.append(report)
            continue
        ref = report.ref
        try:
            jobs = reader.list_jobs(ref.project, logstore=ref.logstore)
        except SlsError as exc:
            log.debug("no migration hint for %s: %s", ref, exc)
            jobs = []
        if not jobs:
            result.append(report)
            continue
        names = ", ".join(job.name for job in jobs)
        refs = ",".join(f"{ref.project}/{job.name}" for job in jobs)
        hint = MIGRATION_HINT.format(job=names, ref=refs)
        message = f"{error.message}; {hint}" if error.message else hint
        result.append(replace(report, error=replace(error, message=message)))
    return result
