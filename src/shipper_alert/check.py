"""One check's fetch stage: expand wildcards, read every shipper concurrently, auto-retry.

Reads go through a bounded thread pool (each worker feeds its shipper's pages to the pure
core in `shipper_alert.evaluate` as they arrive, so memory stays flat with hundreds of
shippers and thousands of tasks); what the tasks mean is decided there, not here. A
shipper that cannot be read after the client's retries becomes a monitor error, and every
other shipper is still checked.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from shipper_alert import history as timelines
from shipper_alert.config import Rules
from shipper_alert.evaluate import (
    Findings,
    ReadOutcome,
    WindowEvaluator,
    decide,
    needs_older_tasks,
    newest_created_before,
)
from shipper_alert.models import FIELD_CREATE_TIME, WILDCARD, Columns, ShipperRef, Window
from shipper_alert.reminders import ReminderState
from shipper_alert.report import ErrorInfo, RetryOutcome, ShipperReport
from shipper_alert.sls.errors import SlsError
from shipper_alert.window_views import HistoryRecorder

log = logging.getLogger(__name__)

# GetShipperStatus serves the last 48 hours: https://www.alibabacloud.com/help/doc-detail/29027.htm
API_RETENTION = 48 * 3600
# Keep fetch ranges this far inside the 48 hours, for clock skew between FC and SLS.
RETENTION_MARGIN = 300


class TaskPageLike(Protocol):
    # Validated task records (shipper_alert.models). SlsClient gives each task once, and
    # the timeline relies on it; evaluation does not (it ignores a repeated task).
    records: list[dict]

    @property
    def columns(self) -> Columns: ...  # the records' fields as lists


class ShipperReader(Protocol):
    """What a check needs from SLS (implemented by sls.client.SlsClient)."""

    def iter_task_pages(
        self, project: str, logstore: str, shipper: str, start: int, end: int, status: str = ""
    ) -> Iterable[TaskPageLike]: ...

    def list_logstores(self, project: str) -> list[str]: ...

    def list_shippers(self, project: str, logstore: str) -> list[str]: ...

    def retry_tasks(
        self, project: str, logstore: str, shipper: str, task_ids: list[str]
    ) -> None: ...


@dataclass(frozen=True)
class FetchRange:
    start: int
    end: int


def oldest_fetchable(now: float) -> int:
    """The earliest creation time GetShipperStatus still serves, with a margin."""
    return math.ceil(now) - API_RETENTION + RETENTION_MARGIN


def fetch_range(window: Window, rules: Rules, now: float) -> FetchRange:
    """[window.start - LOOKBACK, window.end), kept inside what the API serves."""
    return FetchRange(max(window.start - rules.lookback, oldest_fetchable(now)), window.end)


def error_info(exc: SlsError) -> ErrorInfo:
    return ErrorInfo(exc.code, exc.message, exc.request_id or None, exc.status)


def _read_shipper(
    client: ShipperReader,
    ref: ShipperRef,
    window: Window,
    rules: Rules,
    now: float,
    history: tuple[Window, ...] = (),
) -> ShipperReport:
    # Reach back over every earlier window judged here (the previous one for resolved,
    # the policy's history), so that each sees the tasks its own check saw.
    reach = min([window.previous().start] + [w.start for w in history])
    span = fetch_range(Window(reach, window.end), rules, now)
    evaluator = WindowEvaluator(window, rules)
    recorder = HistoryRecorder(history, rules)
    interval = timelines.choose_interval(window.length + rules.lookback, rules.check_interval)
    timeline = timelines.TimelineCounter(str(ref), window, rules.lookback, interval)
    older: int | None = None
    error: SlsError | None = None
    try:
        for page in client.iter_task_pages(
            ref.project, ref.logstore, ref.shipper, span.start, span.end
        ):
            evaluator.add_records(page.records, page.columns)
            recorder.add_records(page.records, page.columns)
            timeline.add_records(page.records, distinct=True)  # each task once, per the reader
        oldest = oldest_fetchable(now)
        if needs_older_tasks(evaluator.newest_create_time, rules) and span.start > oldest:
            older = _newest_create_time(client, ref, oldest, span.start)
    except SlsError as exc:
        error = exc
    verdict = evaluator.verdict()
    if error is not None:
        log.warning("cannot read %s: %s", ref, error)
    else:
        log.debug(
            "%s: %d tasks, %d failed, %d succeeded, %d running in window",
            ref,
            verdict.tasks_seen,
            verdict.counts.failed,
            verdict.counts.succeeded,
            verdict.running,
        )
    read = error is None
    findings = decide(verdict, ReadOutcome(read, older), window, rules)
    report = _report(ref, findings, error, recorder.result() if read and history else None)
    return replace(report, timeline=timeline.result() if read or findings.partial else None)


def _report(
    ref: ShipperRef, findings: Findings, error: SlsError | None, history: object = None
) -> ShipperReport:
    return ShipperReport(
        ref=ref,
        failed=findings.counts.failed,
        succeeded=findings.counts.succeeded,
        running=findings.running,
        ratio=findings.counts.ratio,
        breached=findings.breached,
        failed_tasks=findings.failed_tasks,
        stuck_tasks=findings.stuck_tasks,
        stall=findings.stall,
        resolved=findings.resolved,
        error=None if error is None else error_info(error),
        partial=findings.partial,
        history=history,
    )


def _newest_create_time(client: ShipperReader, ref: ShipperRef, start: int, end: int) -> int | None:
    newest: int | None = None
    for page in client.iter_task_pages(ref.project, ref.logstore, ref.shipper, start, end):
        created = (record[FIELD_CREATE_TIME] for record in page.records)
        newest = newest_created_before(created, end, newest)
    return newest


def _expand(
    client: ShipperReader, pattern: ShipperRef, pool: ThreadPoolExecutor
) -> tuple[list[ShipperRef], list[ShipperReport]]:
    """The shippers a pattern names now, and an error report for each part that failed."""
    errors: list[ShipperReport] = []
    if pattern.logstore == WILDCARD:
        try:
            logstores = client.list_logstores(pattern.project)
        except SlsError as exc:
            log.warning("cannot list logstores of %s: %s", pattern.project, exc)
            return [], [ShipperReport(ref=pattern, error=error_info(exc))]
    else:
        logstores = [pattern.logstore]

    def shippers_of(logstore: str) -> tuple[str, list[str] | SlsError]:
        try:
            return logstore, client.list_shippers(pattern.project, logstore)
        except SlsError as exc:
            return logstore, exc

    found: list[ShipperRef] = []
    for logstore, names in pool.map(shippers_of, logstores):
        if isinstance(names, SlsError):
            log.warning("cannot list shippers of %s/%s: %s", pattern.project, logstore, names)
            where = ShipperRef(pattern.project, logstore, pattern.shipper)
            errors.append(ShipperReport(ref=where, error=error_info(names)))
            continue
        for name in names:
            if pattern.shipper in (WILDCARD, name):
                found.append(ShipperRef(pattern.project, logstore, name))
    return found, errors


# Shipper readers per request slot: a reader evaluating the page it has just read holds
# no slot, so with one reader a slot, that slot sits idle meanwhile; with two, another
# reader's request takes it. 200 x 2,000 of `make bench`, four runs each, interleaved on a
# busy machine: CPU over wall 0.67-0.90 (median 0.80) against 0.59-0.87 (0.64) with one.
READERS_PER_SLOT = 2


def run_checks(
    client: ShipperReader,
    shippers: Iterable[ShipperRef],
    window: Window,
    rules: Rules,
    now: float,
    workers: int = 8,
    history: tuple[Window, ...] = (),
) -> list[ShipperReport]:
    """Read and evaluate every shipper (patterns expanded); one report each, sorted.

    Up to `workers` x READERS_PER_SLOT threads read shippers (the pool starts one per
    shipper at most); the client reads a shipper's later pages on threads of its own that
    wait on nothing else, and bounds the requests in flight to `workers`, its pooled
    connections (CHECK_WORKERS).
    """
    readers = workers * READERS_PER_SLOT
    with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="shipper") as pool:
        refs: list[ShipperRef] = []
        reports: list[ShipperReport] = []
        for ref in shippers:
            if ref.is_pattern:
                found, errors = _expand(client, ref, pool)
                refs.extend(found)
                reports.extend(errors)
            else:
                refs.append(ref)
        unique = list(dict.fromkeys(refs))

        def read(ref: ShipperRef) -> ShipperReport:
            return _read_shipper(client, ref, window, rules, now, history)

        reports.extend(pool.map(read, unique))
    return sorted(reports, key=lambda r: str(r.ref))


def apply_reminders(
    reports: list[ShipperReport], state: ReminderState, window: Window, rules: Rules
) -> list[ShipperReport]:
    """Mark which monitor errors are due now; forget errors of shippers that read again."""
    result = []
    for report in reports:
        if report.error is None:
            state.forget_shipper(str(report.ref))
            result.append(report)
            continue
        key = ReminderState.key(str(report.ref), report.error.code)
        due = state.due(key, window.end, rules.remind_interval)
        result.append(replace(report, error_notice_due=due))
    return result


def record_reminders(
    reports: Iterable[ShipperReport], state: ReminderState, window: Window
) -> None:
    """Remember the monitor-error notices that went out (after a delivery)."""
    for report in reports:
        if report.error is not None and report.error_notice_due:
            state.mark_sent(ReminderState.key(str(report.ref), report.error.code), window.end)
    state.save()


def auto_retry(
    client: ShipperReader, reports: list[ShipperReport], dry_run: bool
) -> list[ShipperReport]:
    """Ask SLS to retry the reported failed tasks (the client sends 10 ids a call)."""
    result = []
    for report in reports:
        ids = tuple(task.id for task in report.failed_tasks)
        if not ids:
            result.append(report)
            continue
        if dry_run:
            result.append(replace(report, retry=RetryOutcome(ids, requested=False)))
            continue
        ref = report.ref
        error = None
        try:
            client.retry_tasks(ref.project, ref.logstore, ref.shipper, list(ids))
        except SlsError as exc:
            log.warning("RetryShipperTask for %s failed: %s", ref, exc)
            error = f"{exc.code}: {exc.message}"
        else:
            log.info("requested a retry of %d failed task(s) of %s", len(ids), ref)
        result.append(replace(report, retry=RetryOutcome(ids, requested=True, error=error)))
    return result
