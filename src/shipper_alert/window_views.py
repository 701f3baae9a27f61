"""What the fetched tasks say about several windows at once (pure), for the policy.

Stateless checks replay the notification policy over the windows before the checked one,
and ledger checks catch up every window since the last one checked; both need, per
window, what that window's own check would report. `HistoryRecorder` feeds each page to
one `WindowEvaluator` per window, and also keeps every task that is failed now, so that a
ledger check can report a failure its owning check missed (a retry was running then).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import eq, itemgetter

from shipper_alert.config import Rules
from shipper_alert.evaluate import (
    FailedTask,
    PageIndex,
    Stall,
    StuckTask,
    Verdict,
    WindowEvaluator,
    failed_alert_time,
    stall_in_window,
)
from shipper_alert.models import (
    FIELD_STATUS,
    TASK_FAIL,
    Columns,
    Task,
    Window,
)
from shipper_alert.policy import KIND_FAILED, KIND_STALL, KIND_STUCK, Finding, Observation, cause_of

_STATUS = itemgetter(FIELD_STATUS)
STUCK_CAUSE = "stuck"
STALL_CAUSE = "stall"


@dataclass(frozen=True)
class WindowView:
    window: Window
    verdict: Verdict
    stall: Stall | None

    def observation(self, own_check: bool = True) -> Observation:
        """What this window showed; `own_check` False: as a later check replays it.

        A task running now that was due as stuck in an earlier window may be an SLS retry
        of a failure, which that window's own check saw failed (not stuck): replayed, a
        stuck task alone does not put the window in trouble, so that no later check
        invents an episode (and its RESOLVED) that no check opened.
        """
        end = self.window.end
        findings = [
            Finding(KIND_FAILED, t.id, cause_of(t.code, t.message), end)
            for t in self.verdict.reported_failed_tasks
        ]
        # Stuck keys have their own namespace: a task reported stuck that fails later is a
        # new failure, not one already notified.
        findings += [
            Finding(KIND_STUCK, f"stuck:{t.id}", STUCK_CAUSE, end) for t in self.verdict.stuck_tasks
        ]
        if self.stall is not None:
            findings.append(Finding(KIND_STALL, f"stall:{self.stall.due_time}", STALL_CAUSE, end))
        stuck = bool(self.verdict.stuck_tasks) and own_check
        trouble = self.verdict.breached or stuck or self.stall is not None
        return Observation(self.window.start, end, trouble, tuple(findings))


@dataclass(frozen=True)
class History:
    windows: tuple[WindowView, ...]  # oldest first
    failed_now: dict[str, FailedTask]  # every task failed now, alert time before the end
    stuck_now: dict[str, StuckTask]

    def failed_task(self, finding: Finding) -> FailedTask:
        """The task a failed finding names, as fetched, or rebuilt from the finding."""
        task = self.failed_now.get(finding.key)
        if task is not None:
            return task
        message = finding.cause.split(":", 1)[-1]
        code = message if finding.cause.startswith("code:") else None
        return FailedTask(finding.key, message, code, 0, 0, finding.window_end)

    def stuck_task(self, finding: Finding) -> StuckTask:
        task_id = finding.key.removeprefix("stuck:")
        return self.stuck_now.get(task_id) or StuckTask(task_id, 0, finding.window_end)


class HistoryRecorder:
    def __init__(self, windows: Sequence[Window], rules: Rules) -> None:
        self.rules = rules
        self.windows = tuple(windows)
        self._evaluators = [WindowEvaluator(w, rules) for w in self.windows]
        self._end = self.windows[-1].end if self.windows else 0
        self._failed: dict[str, FailedTask] = {}
        self._stuck: dict[str, StuckTask] = {}

    def add_records(self, records: Sequence[dict], columns: Columns | None = None) -> None:
        """`add` for a page's validated records (and their columns, if the page has them):
        a Task is built only for a failed one."""
        if not self._evaluators:  # a manual check decides its own window only
            return
        if columns is None:
            columns = Columns.of(records)
        records = list(records)
        index = PageIndex(records, columns)  # sorted once for every window
        for evaluator in self._evaluators:
            evaluator.add_index(index)
        if TASK_FAIL in columns.statuses:
            failed = compress(records, map(eq, map(_STATUS, records), repeat(TASK_FAIL)))
            self._add_failed(map(Task.from_record, failed))

    def add(self, tasks: Iterable[Task]) -> None:
        tasks = list(tasks)
        for evaluator in self._evaluators:
            evaluator.add(tasks)
        self._add_failed(tasks)

    def _add_failed(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            if task.status != TASK_FAIL or task.create_time >= self._end:
                continue
            due = failed_alert_time(task, self.rules)
            if due < self._end:
                self._failed[task.id] = FailedTask(
                    task.id, task.message, task.code, task.create_time, task.finish_time, due
                )

    def result(self) -> History:
        views = []
        for window, evaluator in zip(self.windows, self._evaluators, strict=True):
            verdict = evaluator.verdict()
            for stuck in verdict.stuck_tasks:
                self._stuck[stuck.id] = stuck
            stall = stall_in_window(verdict.newest_create_time, window, self.rules)
            views.append(WindowView(window, verdict, stall))
        return History(tuple(views), dict(self._failed), dict(self._stuck))


def windows_between(first_end: int, last: Window) -> list[Window]:
    """The windows of `last`'s length ending at first_end, ..., last.end (oldest first)."""
    length = last.length
    ends = range(last.end - ((last.end - first_end) // length) * length, last.end + 1, length)
    return [Window(end - length, end) for end in ends]
