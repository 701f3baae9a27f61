"""What a scenario is made of: tasks and how they look at a clock time, the project /
logstore / shipper tree, the accepted credentials, and the scenario's error type.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the escaping of json.dumps(ensure_ascii=False)
from typing import Any

from shipper_alert.models import TASK_FAIL, TASK_RUNNING, TASK_STATUSES, TASK_SUCCESS

# The simulator's own made-up credentials, accepted when a scenario names none. They open
# nothing but a local simulator, so they are not secrets.
DEFAULT_ACCESS_KEY_ID = "sim-access-key-id"
DEFAULT_ACCESS_KEY_SECRET = "sim-access-key-secret"  # noqa: S105


DEFAULT_RETRY_DURATION = 300


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` lists each one with its field path."""

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" {source}" if source else ""
        count = len(self.problems)
        head = f"invalid scenario{where}" + (f" ({count} problems)" if count > 1 else "")
        super().__init__(head + ":\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class TaskState:
    """A point in a task's history: from `at` (epoch seconds) on, it has this status."""

    at: int
    status: str
    message: str = ""
    code: str | None = None


@dataclass(frozen=True)
class TaskView:
    """A task as GetShipperStatus shows it at one clock time."""

    id: str
    status: str
    message: str
    create_time: int
    last_data_receive_time: int
    finish_time: int
    code: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskStatus": self.status,
            "taskMessage": self.message,
            "taskCreateTime": self.create_time,
            "taskLastDataReceiveTime": self.last_data_receive_time,
            "taskFinishTime": self.finish_time,
            "taskCode": self.code,
        }

    def json_text(self) -> str:
        """`to_json()` as `json.dumps(..., ensure_ascii=False)` writes it (kept once made)."""
        text = self.__dict__.get("_json_text")
        if text is None:
            text = _TASK_JSON % (
                encode_basestring(self.id),
                encode_basestring(self.status),
                encode_basestring(self.message),
                self.create_time,
                self.last_data_receive_time,
                self.finish_time,
                "null" if self.code is None else encode_basestring(self.code),
            )
            object.__setattr__(self, "_json_text", text)
        return text


_TASK_JSON = (
    '{"id": %s, "taskStatus": %s, "taskMessage": %s, "taskCreateTime": %d,'
    ' "taskLastDataReceiveTime": %d, "taskFinishTime": %d, "taskCode": %s}'
)


class TaskSpec:
    """One task and its scripted history; `view(t)` is what the API shows at time t."""

    def __init__(
        self,
        id: str,
        created: int,
        status: str,
        finished: int = 0,
        *,
        message: str = "",
        code: str | None = None,
        last_data_receive: int | None = None,
        after_retry: str = TASK_SUCCESS,
        retry_duration: int = DEFAULT_RETRY_DURATION,
        states: Iterable[TaskState] = (),
    ) -> None:
        problems = task_problems(
            id, created, status, finished, after_retry=after_retry, retry_duration=retry_duration
        )
        if problems:
            raise ScenarioError(problems)
        self.id = id
        self.created = created
        self.status = status
        self.finished = 0 if status == TASK_RUNNING else finished
        self.message = message
        self.code = code
        self.last_data_receive = last_data_receive
        self.after_retry = after_retry
        self.retry_duration = retry_duration
        self.history: list[TaskState] = []
        # The last view made and the whole seconds [from, until) it holds for: a task looks
        # the same between two of its own instants, so pages of any range or second reuse it.
        self._view: tuple[float, float, TaskView | None] | None = None
        for state in states:
            self.add_state(state)
        # Responses list tasks in this order: stable, but unrelated to time (the API's
        # order is not defined, so clients must not rely on one).
        self.order_key = hashlib.sha1(id.encode("utf-8"), usedforsecurity=False).hexdigest()

    # Bumped by every state change of any task, so that cached views never go stale.
    changes = 0

    def add_state(self, state: TaskState) -> None:
        """Insert a state change; among changes at the same instant the latest added wins."""
        bisect.insort_right(self.history, state, key=lambda s: s.at)
        self._view = None
        TaskSpec.changes += 1

    def view(self, now: float) -> TaskView | None:
        cached = self._view
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        view = self._make_view(now)
        # The view changes only at these instants (creation, finish, each scripted state).
        since, until = -math.inf, math.inf
        for at in (self.created, self.finished, *(state.at for state in self.history)):
            if at <= now:
                since = max(since, at)
            else:
                until = min(until, at)
        self._view = (since, until, view)
        return view

    def _make_view(self, now: float) -> TaskView | None:
        if now < self.created:
            return None
        status, message, code, finished = self.status, self.message, self.code, self.finished
        if status != TASK_RUNNING and finished > now:
            status, message, code, finished = TASK_RUNNING, "", None, 0
        for state in self.history:
            if state.at > now:
                break
            status, message, code = state.status, state.message, state.code
            finished = 0 if status == TASK_RUNNING else state.at
        if self.last_data_receive is not None:
            last_receive = self.last_data_receive
        else:
            last_receive = finished or self.created
        return TaskView(self.id, status, message, self.created, last_receive, finished, code)

    def retry(self, now: int) -> bool:
        """RetryShipperTask at `now`: only a task that is failed at `now` is affected."""
        current = self.view(now)
        if current is None or current.status != TASK_FAIL:
            return False
        self.add_state(TaskState(now, TASK_RUNNING))
        if self.after_retry == TASK_FAIL:
            outcome = TaskState(now + self.retry_duration, TASK_FAIL, current.message, current.code)
        else:
            outcome = TaskState(now + self.retry_duration, self.after_retry)
        self.add_state(outcome)
        return True

    def __repr__(self) -> str:
        return f"TaskSpec({self.id!r}, created={self.created}, status={self.status!r})"


def task_problems(
    id: str, created: int, status: str, finished: int, *, after_retry: str, retry_duration: int
) -> list[str]:
    problems = []
    if not isinstance(id, str) or not id:
        problems.append(f"id: must be a non-empty string, not {id!r}")
    if status not in TASK_STATUSES:
        problems.append(f"status: must be one of {', '.join(TASK_STATUSES)}, not {status!r}")
    if after_retry not in TASK_STATUSES:
        problems.append(f"afterRetry: must be one of {', '.join(TASK_STATUSES)}")
    if status != TASK_RUNNING and isinstance(finished, int) and finished < created:
        problems.append(f"finished: {finished} is before the creation time {created}")
    if retry_duration < 0:
        problems.append("retryDuration: must not be negative")
    return problems


class ShipperSpec:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: dict[str, TaskSpec] = {}
        self._ordered: list[TaskSpec] = []
        self._added = 0
        self._cached: tuple[tuple[int, int, int, int, int], list[TaskView]] | None = None
        self._pages: tuple[tuple[int, int, int, int, int], dict[Any, bytes]] | None = None

    def add_task(self, task: TaskSpec) -> TaskSpec:
        if task.id in self.tasks:
            raise ScenarioError([f"task id {task.id!r} appears twice in shipper {self.name!r}"])
        self.tasks[task.id] = task
        bisect.insort_right(self._ordered, task, key=lambda t: t.order_key)
        self._added += 1
        return task

    def views(self, now: float, start: int, end: int) -> list[TaskView]:
        """Tasks visible at `now` created in [start, end] (both ends included), API order.

        Every instant of a task is a whole second, so the views at `now` are those at its
        whole second; the last list is kept for the pages that follow within that second
        (without it, paging through N tasks costs the simulator N * N / 500 task views).
        """
        second = math.floor(now)
        key = self._views_key(now, start, end)
        cached = self._cached
        if cached is not None and cached[0] == key:
            return cached[1]
        found = []
        for task in self._ordered:
            if start <= task.created <= end:
                view = task.view(second)
                if view is not None:
                    found.append(view)
        self._cached = (key, found)
        return found

    def page(
        self, now: float, start: int, end: int, extra: Any, build: Callable[[list[TaskView]], bytes]
    ) -> bytes:
        """The body `build` makes of `views(now, start, end)`, kept like the views (per
        `extra`, the rest of the request), so that a page asked again costs nothing."""
        key = self._views_key(now, start, end)
        pages = self._pages
        if pages is None or pages[0] != key:
            pages = self._pages = (key, {})
        body = pages[1].get(extra)
        if body is None:
            body = pages[1][extra] = build(self.views(now, start, end))
        return body

    def _views_key(self, now: float, start: int, end: int) -> tuple[int, int, int, int, int]:
        return (math.floor(now), start, end, self._added, TaskSpec.changes)

    def __repr__(self) -> str:
        return f"ShipperSpec({self.name!r}, {len(self.tasks)} tasks)"


class LogstoreSpec:
    def __init__(self, name: str) -> None:
        self.name = name
        self.shippers: dict[str, ShipperSpec] = {}

    def __repr__(self) -> str:
        return f"LogstoreSpec({self.name!r}, shippers={list(self.shippers)})"


class ProjectSpec:
    def __init__(self, name: str) -> None:
        self.name = name
        self.logstores: dict[str, LogstoreSpec] = {}

    def __repr__(self) -> str:
        return f"ProjectSpec({self.name!r}, logstores={list(self.logstores)})"


@dataclass(frozen=True)
class Credential:
    """An AccessKey pair the simulator accepts; with a token, requests must carry it."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


DEFAULT_CREDENTIAL = Credential(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)


def check_name(name: Any, kind: str, project: bool = False) -> None:
    problem = name_problem(name, project)
    if problem:
        raise ScenarioError([f"{kind} name {name!r}: {problem}"])


def name_problem(name: Any, project: bool) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if project and not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        # The simulator reads the project from the first label of the Host header.
        return "may only hold letters, digits, '-' and '_'"
    return None
