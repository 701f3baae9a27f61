"""Pure evaluation: tasks + window + rules + read outcome -> what a check reports for a shipper.

The rules are the contract's "What counts, and exactly once". Each finding belongs to the
one window that holds its due instant, so consecutive timer checks, which tile time
without overlap, report it exactly once with no stored state:

- a failed task is due at `max(taskFinishTime, taskCreateTime + FAIL_GRACE)`, if it is
  still failed when checked;
- a succeeded task counts (for the ratio) in the window holding its taskFinishTime;
- a stuck task is due at `taskCreateTime + RUNNING_TIMEOUT`, if it is still running;
- a stalled shipper is due at `newest taskCreateTime + STALL_TIMEOUT` and again at each
  whole multiple of REMIND_INTERVAL after that, while no newer task exists.

Tasks arrive page by page (`WindowEvaluator.add`), in no defined order and possibly
repeated across pages; only what can be reported is kept, never every task. `decide` then
turns the verdict and how the read went (`ReadOutcome`) into the `Findings`: breach,
stall, resolved and whether a failed read is partial are all decided here, none in the
fetch stage. Nothing here reads a clock: every instant is an argument.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import eq, itemgetter, le, or_

from shipper_alert.config import Rules
from shipper_alert.models import (
    FIELD_CREATE_TIME,
    FIELD_FINISH_TIME,
    FIELD_ID,
    FIELD_STATUS,
    TASK_FAIL,
    TASK_RUNNING,
    TASK_SUCCESS,
    Columns,
    Task,
    Window,
)

_ENDED = frozenset({TASK_SUCCESS, TASK_FAIL})
_STATUS = itemgetter(FIELD_STATUS)
_NULL_AS_ZERO = {None: 0}


@dataclass(frozen=True)
class FailedTask:
    id: str
    message: str
    code: str | None
    create_time: int
    finish_time: int
    alert_time: int


@dataclass(frozen=True)
class StuckTask:
    id: str
    create_time: int
    due_time: int


@dataclass(frozen=True)
class Stall:
    """A shipper that created no task for STALL_TIMEOUT, due in this window."""

    newest_create_time: int | None  # None: no task within the range the API serves
    due_time: int
    reminder: bool


@dataclass(frozen=True)
class Counts:
    failed: int = 0
    succeeded: int = 0

    @property
    def ratio(self) -> float | None:
        judged = self.failed + self.succeeded
        return self.failed / judged if judged else None

    def breaches(self, rules: Rules) -> bool:
        if self.failed < rules.fail_threshold:
            return False
        if rules.fail_ratio_threshold is None:
            return True
        ratio = self.ratio
        return ratio is not None and ratio >= rules.fail_ratio_threshold


@dataclass(frozen=True)
class Verdict:
    """What the fetched tasks say about one shipper for one window."""

    counts: Counts
    running: int
    breached: bool
    previous_breached: bool
    failed_tasks: tuple[FailedTask, ...]  # every failed task due in the window
    stuck_tasks: tuple[StuckTask, ...]
    newest_create_time: int | None
    tasks_seen: int  # tasks read (repeats included), created before the window's end

    @property
    def reported_failed_tasks(self) -> tuple[FailedTask, ...]:
        """Failed tasks are reported only when the window breaches."""
        return self.failed_tasks if self.breached else ()


def failed_alert_time(task: Task, rules: Rules) -> int:
    return fail_due(task.create_time, task.finish_time, rules.fail_grace)


def fail_due(create_time: int, finish_time: int, fail_grace: int) -> int:
    """When a failed task is reported: its finish, but no sooner than FAIL_GRACE."""
    return max(finish_time, create_time + fail_grace)


class WindowEvaluator:
    """Accumulates one shipper's tasks for `window` (and the window before it)."""

    def __init__(self, window: Window, rules: Rules) -> None:
        self.window = window
        self.previous = window.previous()
        self.rules = rules
        self._seen: set[str] = set()
        self._failed: list[FailedTask] = []
        self._stuck: list[StuckTask] = []
        self._succeeded = 0
        self._running = 0
        self._previous_failed = 0
        self._previous_succeeded = 0
        self._newest: int | None = None
        self._read = 0
        # The bounds `_counter` compares every task against, read once.
        self._start, self._end = window.start, window.end
        self._previous_start = self.previous.start
        self._grace = rules.fail_grace

    def add(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            created = task.create_time
            if created >= self._end:
                continue
            self._tally(created)
            count = self._counter(task.status, created, task.finish_time)
            if count is not None and task.id not in self._seen:
                self._seen.add(task.id)
                count(task)

    def add_records(self, records: Iterable[dict], columns: Columns | None = None) -> None:
        """`add` for validated task records (see `shipper_alert.models`), as a page holds
        them, with their `columns` if the page has them: a Task is built only for a task
        that counts.

        Most of a page is lookback that counts in neither window: such a task (succeeded or
        failed, due before the previous window, or created from the window's end on) is
        only tallied, in loops that run in C over the columns; only a task that may count
        (finished or created since the previous window began, less FAIL_GRACE, or not yet
        ended) goes to `_counter`.
        """
        if not isinstance(records, list):
            records = list(records)
        if not records:
            return
        if columns is None:
            columns = Columns.of(records)
        created = columns.create_times
        end, low = self._end, self._previous_start
        newest = max(created)
        if newest < end:
            self._read += len(created)
        else:
            before = list(filter(end.__gt__, created))
            self._read += len(before)
            newest = max(before, default=None)
        if newest is not None and (self._newest is None or newest > self._newest):
            self._newest = newest
        recent = map(le, repeat(low), _finish_times(columns))
        young = map(le, repeat(low - self._grace), created)
        flags = map(or_, recent, young)
        if not columns.statuses <= _ENDED:  # a running task counts whatever its times
            flags = map(or_, flags, map(eq, map(_STATUS, records), repeat(TASK_RUNNING)))
        self._count(compress(records, flags))

    def add_index(self, index: PageIndex) -> None:
        """`add_records` for a page sorted once for many evaluators: the tally and the
        tasks that may count are found by bisection, not by a pass over the page."""
        end, low = self._end, self._previous_start
        created = index.create_times
        read = bisect_left(created, end)
        if read:
            self._read += read
            newest = created[read - 1]
            if self._newest is None or newest > self._newest:
                self._newest = newest
        finished = index.finish_times
        may_count = chain(
            index.by_finish[bisect_left(finished, low) : bisect_left(finished, end)],
            index.by_create[bisect_left(created, low - self._grace) : read],
            index.unended,
        )
        # A task may come twice: once counted, it is in `_seen`.
        self._count(map(index.records.__getitem__, may_count))

    def _count(self, records: Iterable[dict]) -> None:
        """`_counter` for records that may count (their tally already taken)."""
        end, counter, seen = self._end, self._counter, self._seen
        for record in records:
            created = record[FIELD_CREATE_TIME]
            if created >= end:
                continue
            count = counter(record[FIELD_STATUS], created, record.get(FIELD_FINISH_TIME))
            if count is not None and record[FIELD_ID] not in seen:
                seen.add(record[FIELD_ID])
                count(Task.from_record(record))

    def _tally(self, created: int) -> None:
        """A task created before the window's end: read, and maybe the newest."""
        self._read += 1
        if self._newest is None or created > self._newest:
            self._newest = created

    def _counter(self, status: str, created: int, finished: int | None):
        """What a task created before the window's end adds to, or None when it belongs to
        neither window.

        Only tasks that count are remembered (the caller builds and deduplicates them), so
        memory follows the window's findings, not the thousands of tasks in the lookback.
        """
        if status == TASK_FAIL:
            due = fail_due(created, finished, self._grace)
            if self._start <= due < self._end:
                return self._add_failed
            if self._previous_start <= due < self._start:
                return self._add_previous_failed
        elif status == TASK_SUCCESS:
            if self._start <= finished < self._end:
                return self._add_succeeded
            if self._previous_start <= finished < self._start:
                return self._add_previous_succeeded
        elif status == TASK_RUNNING:
            return self._add_running
        return None

    def _add_failed(self, task: Task) -> None:
        due = failed_alert_time(task, self.rules)
        self._failed.append(
            FailedTask(task.id, task.message, task.code, task.create_time, task.finish_time, due)
        )

    def _add_previous_failed(self, task: Task) -> None:
        self._previous_failed += 1

    def _add_succeeded(self, task: Task) -> None:
        self._succeeded += 1

    def _add_previous_succeeded(self, task: Task) -> None:
        self._previous_succeeded += 1

    def _add_running(self, task: Task) -> None:
        self._running += 1
        timeout = self.rules.running_timeout
        if timeout is not None and self.window.contains(task.create_time + timeout):
            self._stuck.append(StuckTask(task.id, task.create_time, task.create_time + timeout))

    @property
    def newest_create_time(self) -> int | None:
        return self._newest

    def verdict(self) -> Verdict:
        counts = Counts(len(self._failed), self._succeeded)
        previous = Counts(self._previous_failed, self._previous_succeeded)
        failed = sorted(self._failed, key=lambda t: (t.alert_time, t.create_time, t.id))
        stuck = sorted(self._stuck, key=lambda t: (t.due_time, t.id))
        return Verdict(
            counts=counts,
            running=self._running,
            breached=counts.breaches(self.rules),
            previous_breached=previous.breaches(self.rules),
            failed_tasks=tuple(failed),
            stuck_tasks=tuple(stuck),
            newest_create_time=self._newest,
            tasks_seen=self._read,
        )


class PageIndex:
    """One page's tasks in order of create time and of finish time, for `add_index`.

    A timer check judges dozens of windows from each page (`window_views.HistoryRecorder`):
    sorting the page once lets each window's evaluator find its few tasks by bisection.
    `unended` are the tasks that may count whatever their times (running).
    """

    __slots__ = ("by_create", "by_finish", "create_times", "finish_times", "records", "unended")

    def __init__(self, records: list[dict], columns: Columns) -> None:
        self.records = records
        created, finished = columns.create_times, _finish_times(columns)
        unended = not columns.statuses <= _ENDED
        self.by_create = sorted(range(len(created)), key=created.__getitem__)
        self.create_times = list(map(created.__getitem__, self.by_create))
        self.by_finish = sorted(range(len(finished)), key=finished.__getitem__)
        self.finish_times = list(map(finished.__getitem__, self.by_finish))
        running = map(eq, map(_STATUS, records), repeat(TASK_RUNNING))
        self.unended = list(compress(range(len(records)), running)) if unended else []


def _finish_times(columns: Columns) -> list[int]:
    """The page's finish times, a running task's missing one as 0 (it counts whatever its
    times, by its status)."""
    finished = columns.finish_times
    if TASK_RUNNING in columns.statuses and None in finished:
        return list(map(_NULL_AS_ZERO.get, finished, finished))
    return finished


def stall_in_window(newest_create_time: int | None, window: Window, rules: Rules) -> Stall | None:
    """The stall finding due in `window`, if any.

    With a newest task at N, the shipper is due at N + STALL_TIMEOUT + k * REMIND_INTERVAL
    for k = 0, 1, ...; the first such instant at or after the window's start decides.
    With no task at all in the range the API serves, the first notice went out long ago
    (or the shipper never ran); reminders then fall on whole multiples of REMIND_INTERVAL
    since the epoch, which is still once per interval and needs no state.
    """
    timeout = rules.stall_timeout
    if timeout is None:
        return None
    remind = rules.remind_interval
    if newest_create_time is None:
        # REMIND_INTERVAL 0: every window notifies on its own, from its start.
        due = -(-window.start // remind) * remind if remind > 0 else window.start
        return Stall(None, due, True) if window.contains(due) else None
    first = newest_create_time + timeout
    if first >= window.end:
        return None
    if remind <= 0:
        due = max(first, window.start)
        return Stall(newest_create_time, due, due > first)
    k = max(0, -(-(window.start - first) // remind))
    due = first + k * remind
    return Stall(newest_create_time, due, k > 0) if window.contains(due) else None


@dataclass(frozen=True)
class ReadOutcome:
    """How far the fetch stage got with one shipper: all that evaluation needs of the read."""

    complete: bool = True  # every page of the fetch range was read
    # The newest task created before the fetch range, fetched when `needs_older_tasks` says.
    newest_before_range: int | None = None


@dataclass(frozen=True)
class Findings:
    """Everything one check reports for one shipper."""

    counts: Counts
    running: int
    breached: bool
    failed_tasks: tuple[FailedTask, ...]  # reported: empty unless the window breaches
    stuck_tasks: tuple[StuckTask, ...]
    stall: Stall | None
    resolved: bool
    partial: bool  # the read failed after some tasks were already evaluated


def needs_older_tasks(newest_create_time: int | None, rules: Rules) -> bool:
    """The stall rule needs the newest task, and the fetch range held none.

    Rare (only shippers that stopped), so the fetch stage looks further back only then,
    to keep stall reminders on their schedule.
    """
    return rules.stall_timeout is not None and newest_create_time is None


def newest_created_before(
    create_times: Iterable[int], end: int, newest: int | None = None
) -> int | None:
    """The newest of `create_times` before `end`, and `newest` (None: none)."""
    for created in create_times:
        if created < end and (newest is None or created > newest):
            newest = created
    return newest


def decide(verdict: Verdict, read: ReadOutcome, window: Window, rules: Rules) -> Findings:
    """The findings of one shipper for `window`, from its tasks' verdict and its read.

    After a failed read, failures and stuck tasks already seen are not lost: a breach they
    prove is reported. Stall and resolved need the whole task list, so they wait for a
    complete read.
    """
    stall = None
    resolved = False
    if read.complete:
        newest = verdict.newest_create_time
        if newest is None:
            newest = read.newest_before_range
        stall = stall_in_window(newest, window, rules)
        resolved = rules.notify_resolved and verdict.previous_breached and not verdict.breached
    return Findings(
        counts=verdict.counts,
        running=verdict.running,
        breached=verdict.breached,
        failed_tasks=verdict.reported_failed_tasks,
        stuck_tasks=verdict.stuck_tasks,
        stall=stall,
        resolved=resolved,
        partial=not read.complete and verdict.tasks_seen > 0,
    )
