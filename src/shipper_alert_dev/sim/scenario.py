"""Scenarios: the projects, logstores, shippers and task histories the simulator serves.

A scenario is a JSON file (or the same structure as a Python dict):

    {"credentials": [{"accessKeyId": "...", "accessKeySecret": "...", "securityToken": "..."}],
     "projects": [{"name": "p", "logstores": [{"name": "l", "shippers": [
         {"name": "s",
          "tasks": [{"id": "t-1", "created": "-2h", "status": "fail", "finished": "-1h55m",
                     "message": "UnAuthorized", "taskCode": "UnAuthorized",
                     "lastDataReceive": "-1h56m", "afterRetry": "success",
                     "retryDuration": "5m",
                     "states": [{"at": "+25m", "status": "success"}]}],
          "generate": [{"start": "-24h", "every": "5m", "count": 288, "duration": "3m",
                        "status": "success", "failEvery": 10, "failMessage": "..."}]}]}]}],
     "faults": [{"api": "GetShipperStatus", "status": 500, "errorCode": "...", "times": 2}]}

Times are epoch seconds (ints), ISO-8601 strings, or signed durations ("-2h", "+5m",
"-1h30m", "-90") relative to the scenario's reference time: the clock's now when it is
loaded. Durations combine the units d, h, m, s; a bare number means seconds.

How a task looks at clock time T (`TaskSpec.view`):
- it does not exist before its creation time;
- it starts with its `status`; a success/fail task whose `finished` is still ahead of T is
  shown as running until then (so tasks "in the future" play out as the clock advances);
- each `states` entry ({"at": offset from creation, "status", "message", "taskCode"}) takes
  over once created+at <= T; a success/fail state finishes at created+at;
- a RetryShipperTask call on a failed task adds two such states: running at the call, then
  `afterRetry` (default success) `retryDuration` (default 5m) later. Scripted states that
  come later still apply at their times.
- taskLastDataReceiveTime is `lastDataReceive` if given, else the finish time (the creation
  time while running); a running task's taskFinishTime is 0.

A failed state without its own message or taskCode uses the task's `message` and
`taskCode`; success and running states default to "" and null.

Every problem in a scenario is reported at once, each naming the path of the bad field,
e.g. `projects[0].logstores[1].shippers[0].tasks[3].created: ...`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipper_alert import durations
from shipper_alert.models import TASK_FAIL, TASK_RUNNING, TASK_STATUSES, TASK_SUCCESS
from shipper_alert_dev.sim import exports
from shipper_alert_dev.sim.faults import Fault, FaultError

# The simulator's own made-up credentials, accepted when a scenario names none. They open
# nothing but a local simulator, so they are not secrets.
DEFAULT_ACCESS_KEY_ID = "sim-access-key-id"
DEFAULT_ACCESS_KEY_SECRET = "sim-access-key-secret"  # noqa: S105

DEFAULT_RETRY_DURATION = 300
DEFAULT_GENERATED_DURATION = 60


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` lists each one with its field path."""

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" {source}" if source else ""
        count = len(self.problems)
        head = f"invalid scenario{where}" + (f" ({count} problems)" if count > 1 else "")
        super().__init__(head + ":\n  " + "\n  ".join(self.problems))


# --- times and durations ---------------------------------------------------------------


def parse_duration(value: str | int) -> int:
    """`90`, `"90"`, `"90s"`, `"5m"`, `"1h30m"`, `"2d"` -> seconds (never negative)."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration must not be negative: {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    try:
        return durations.parse_duration(value)
    except ValueError:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90, 90s, 5m, 1h30m, 2d)") from None


def parse_offset(value: str | int) -> int:
    """A signed duration: `"-2h"`, `"+5m"`, `"-90"`, `"30m"` (no sign = positive)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a relative time: {value!r}")
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_duration(text.lstrip("+-"))


def parse_instant(value: str | int | float) -> int:
    """Epoch seconds (number or digits) or ISO-8601 (naive means UTC) -> epoch seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text))
    try:
        return durations.parse_iso_time(text)
    except ValueError:
        raise ValueError(
            f"not a time: {value!r} (use epoch seconds or ISO-8601 like 2026-11-28T08:05:00Z)"
        ) from None


def resolve_time(value: str | int, reference: int) -> int:
    """A scenario time: absolute (int or ISO-8601) or a signed offset from `reference`."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"epoch seconds must not be negative: {value}")
        return value
    if isinstance(value, str) and value.strip()[:1] in ("+", "-"):
        return reference + parse_offset(value)
    if isinstance(value, str):
        return parse_instant(value)
    raise ValueError(f"not a time: {value!r} (use epoch seconds or a signed offset like -2h)")


# --- tasks -----------------------------------------------------------------------------


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
        problems = _task_problems(
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
        TaskSpec.changes += 1

    def view(self, now: float) -> TaskView | None:
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


def _task_problems(
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


# --- the tree --------------------------------------------------------------------------


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


class Scenario:
    """What the simulator serves. Thread-safe through `lock` (the server holds it).

    Build it from a file or dict with `Scenario.load`, or empty with `Scenario()`, and add
    to it at any time with `add_shipper`/`add_tasks`/`add_credential`.
    """

    def __init__(self, reference_time: float | None = None) -> None:
        if reference_time is None:
            reference_time = time.time()
        self.reference_time = int(reference_time)
        self.projects: dict[str, ProjectSpec] = {}
        self.credentials: list[Credential] = []
        self.faults: list[Fault] = []
        self.description = ""
        self.exports = exports.ExportSet()
        self.lock = threading.RLock()

    # -- loading --

    @classmethod
    def load(
        cls,
        source: Scenario | Mapping[str, Any] | str | os.PathLike[str] | None,
        now: float | None = None,
    ) -> Scenario:
        """A scenario from a dict, a JSON file path, or None (empty); `now` = reference time."""
        if isinstance(source, Scenario):
            return source
        if source is None:
            return cls(now)
        if not isinstance(source, (str, os.PathLike)):
            return cls.from_dict(source, now=now)
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(
                [f"cannot read the file: {exc.strerror or exc}"], str(path)
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"], str(path)
            ) from exc
        return cls.from_dict(data, now=now, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, now: float | None = None, source: str | None = None) -> Scenario:
        scenario = cls(now)
        problems: list[str] = []
        _read_scenario(scenario, data, problems)
        if problems:
            raise ScenarioError(problems, source)
        return scenario

    # -- lookups --

    def project(self, project: str) -> ProjectSpec | None:
        return self.projects.get(project)

    def logstore(self, project: str, logstore: str) -> LogstoreSpec | None:
        found = self.projects.get(project)
        return None if found is None else found.logstores.get(logstore)

    def shipper(self, project: str, logstore: str, shipper: str) -> ShipperSpec | None:
        found = self.logstore(project, logstore)
        return None if found is None else found.shippers.get(shipper)

    def task(self, project: str, logstore: str, shipper: str, task_id: str) -> TaskSpec | None:
        found = self.shipper(project, logstore, shipper)
        return None if found is None else found.tasks.get(task_id)

    def shipper_paths(self) -> list[str]:
        """Every shipper as `project/logstore/shipper`, in scenario order."""
        with self.lock:
            return [
                f"{p.name}/{ls.name}/{s.name}"
                for p in self.projects.values()
                for ls in p.logstores.values()
                for s in ls.shippers.values()
            ]

    def accepted_credentials(self) -> list[Credential]:
        """The scenario's credentials, or the default pair when it names none."""
        with self.lock:
            return list(self.credentials) or [DEFAULT_CREDENTIAL]

    # -- building --

    def add_project(self, project: str) -> ProjectSpec:
        _check_name(project, "project", project=True)
        with self.lock:
            return self.projects.setdefault(project, ProjectSpec(project))

    def add_logstore(self, project: str, logstore: str) -> LogstoreSpec:
        _check_name(logstore, "logstore")
        with self.lock:
            found = self.add_project(project)
            return found.logstores.setdefault(logstore, LogstoreSpec(logstore))

    def add_shipper(
        self,
        project: str,
        logstore: str,
        shipper: str,
        *,
        tasks: Iterable[TaskSpec | Mapping[str, Any]] = (),
        generate: Iterable[Mapping[str, Any]] = (),
        now: float | None = None,
    ) -> ShipperSpec:
        """Get or create the shipper (and its project and logstore), then add tasks.

        Tasks are `TaskSpec`s or dicts in the file format; relative times in them count
        from `now` (default: the scenario's reference time).
        """
        _check_name(shipper, "shipper")
        with self.lock:
            found = self.add_logstore(project, logstore)
            spec = found.shippers.setdefault(shipper, ShipperSpec(shipper))
            self.add_tasks(project, logstore, shipper, tasks=tasks, generate=generate, now=now)
            return spec

    def add_tasks(
        self,
        project: str,
        logstore: str,
        shipper: str,
        tasks: Iterable[TaskSpec | Mapping[str, Any]] = (),
        *,
        generate: Iterable[Mapping[str, Any]] = (),
        now: float | None = None,
    ) -> list[TaskSpec]:
        reference = self.reference_time if now is None else int(now)
        with self.lock:
            spec = self.shipper(project, logstore, shipper)
            if spec is None:
                spec = self.add_shipper(project, logstore, shipper)
            problems: list[str] = []
            built: list[TaskSpec] = []
            taken = set(spec.tasks)
            for index, item in enumerate(tasks):
                path = f"tasks[{index}]"
                task = (
                    item
                    if isinstance(item, TaskSpec)
                    else _read_task(item, path, reference, problems)
                )
                if task is not None:
                    _claim_id(task, path, taken, problems)
                    built.append(task)
            for index, item in enumerate(generate):
                for task in _read_generate(
                    item, f"generate[{index}]", reference, problems, f"{shipper}-gen{index}"
                ):
                    _claim_id(task, f"generate[{index}]", taken, problems)
                    built.append(task)
            if problems:
                raise ScenarioError(problems)
            for task in built:
                spec.add_task(task)
            return built

    def add_credential(
        self, access_key_id: str, access_key_secret: str, security_token: str | None = None
    ) -> Credential:
        credential = Credential(access_key_id, access_key_secret, security_token)
        with self.lock:
            self.credentials.append(credential)
        return credential

    def __repr__(self) -> str:
        return (
            f"Scenario({len(self.shipper_paths())} shippers, reference_time={self.reference_time})"
        )


# --- reading the file format -----------------------------------------------------------

_TOP_KEYS = {"credentials", "projects", "faults", "description", "exports", "diagnosticLogstores"}
_TASK_KEYS = {
    "id",
    "created",
    "status",
    "finished",
    "message",
    "taskCode",
    "lastDataReceive",
    "afterRetry",
    "retryDuration",
    "states",
}
_STATE_KEYS = {"at", "status", "message", "taskCode"}
_GENERATE_KEYS = {
    "start",
    "every",
    "count",
    "duration",
    "status",
    "message",
    "taskCode",
    "idPrefix",
    "failEvery",
    "failMessage",
    "failCode",
    "afterRetry",
    "retryDuration",
}


def _object(data: Any, path: str, allowed: set[str], problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(data, Mapping):
        problems.append(f"{path or 'scenario'}: must be an object, not {type(data).__name__}")
        return None
    for key in data:
        if key not in allowed:
            problems.append(f"{_join(path, key)}: unknown field")
    return dict(data)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _list(data: Mapping[str, Any], key: str, path: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{_join(path, key)}: must be a list")
        return []
    return value


def _string(
    data: Mapping[str, Any],
    key: str,
    path: str,
    problems: list[str],
    *,
    default: str | None = None,
    nullable: bool = False,
    required: bool = False,
) -> str | None:
    if key not in data:
        if required:
            problems.append(f"{_join(path, key)}: required")
        return default
    value = data[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        problems.append(f"{_join(path, key)}: must be a string, not {json.dumps(value)}")
        return default
    return value


def _status(
    data: Mapping[str, Any], key: str, path: str, problems: list[str], default: str | None
) -> str | None:
    value = _string(data, key, path, problems, default=default, required=default is None)
    if value is not None and value not in TASK_STATUSES:
        problems.append(
            f"{_join(path, key)}: must be one of {', '.join(TASK_STATUSES)}, not {value!r}"
        )
        return None
    return value


def _time(
    data: Mapping[str, Any], key: str, path: str, reference: int, problems: list[str]
) -> int | None:
    try:
        return resolve_time(data[key], reference)
    except ValueError as exc:
        problems.append(f"{_join(path, key)}: {exc}")
        return None


def _seconds(
    data: Mapping[str, Any],
    key: str,
    path: str,
    problems: list[str],
    *,
    default: int | None = None,
    positive: bool = False,
) -> int | None:
    if key not in data:
        if default is None:
            problems.append(f"{_join(path, key)}: required")
        return default
    try:
        value = parse_duration(data[key])
    except ValueError as exc:
        problems.append(f"{_join(path, key)}: {exc}")
        return None
    if positive and value <= 0:
        problems.append(f"{_join(path, key)}: must be more than zero")
        return None
    return value


def _count(
    data: Mapping[str, Any], key: str, path: str, problems: list[str], minimum: int
) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{_join(path, key)}: must be an integer >= {minimum}, not {value!r}")
        return None
    return value


def _check_name(name: Any, kind: str, project: bool = False) -> None:
    problem = _name_problem(name, project)
    if problem:
        raise ScenarioError([f"{kind} name {name!r}: {problem}"])


def _name_problem(name: Any, project: bool) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if project and not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        # The simulator reads the project from the first label of the Host header.
        return "may only hold letters, digits, '-' and '_'"
    return None


def _named(
    items: list[Any], path: str, key: str, problems: list[str], project: bool = False
) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, name, object) for each named object of a list; reports bad and twice-used names."""
    out = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{item_path}: must be an object")
            continue
        name = item.get("name")
        problem = _name_problem(name, project)
        if problem:
            problems.append(f"{item_path}.name: {problem}")
            continue
        if name in seen:
            problems.append(f"{item_path}.name: {name!r} is already used by {seen[name]}")
            continue
        seen[name] = item_path
        out.append((item_path, name, dict(item)))
    return out


def _read_scenario(scenario: Scenario, data: Any, problems: list[str]) -> None:
    top = _object(data, "", _TOP_KEYS, problems)
    if top is None:
        return
    reference = scenario.reference_time
    scenario.description = _string(top, "description", "", problems, default="") or ""
    for index, item in enumerate(_list(top, "credentials", "", problems)):
        credential = _read_credential(item, f"credentials[{index}]", problems)
        if credential is not None:
            scenario.credentials.append(credential)
    for index, item in enumerate(_list(top, "faults", "", problems)):
        try:
            scenario.faults.append(Fault.from_dict(item, f"faults[{index}]"))
        except FaultError as exc:
            problems.extend(exc.problems)
    for p_path, p_name, p_data in _named(
        _list(top, "projects", "", problems), "projects", "name", problems, project=True
    ):
        _object(p_data, p_path, {"name", "logstores"}, problems)
        project = scenario.projects.setdefault(p_name, ProjectSpec(p_name))
        logstores = _list(p_data, "logstores", p_path, problems)
        for l_path, l_name, l_data in _named(logstores, f"{p_path}.logstores", "name", problems):
            _object(l_data, l_path, {"name", "shippers"}, problems)
            logstore = project.logstores.setdefault(l_name, LogstoreSpec(l_name))
            shippers = _list(l_data, "shippers", l_path, problems)
            for s_path, s_name, s_data in _named(shippers, f"{l_path}.shippers", "name", problems):
                _object(s_data, s_path, {"name", "tasks", "generate"}, problems)
                shipper = logstore.shippers.setdefault(s_name, ShipperSpec(s_name))
                _read_shipper_tasks(shipper, s_data, s_path, reference, problems)
    exports.read(
        scenario.exports,
        top,
        lambda value: resolve_time(value, reference),
        parse_duration,
        lambda name: scenario.projects.setdefault(name, ProjectSpec(name)),
        problems,
    )


def _read_credential(item: Any, path: str, problems: list[str]) -> Credential | None:
    data = _object(item, path, {"accessKeyId", "accessKeySecret", "securityToken"}, problems)
    if data is None:
        return None
    key_id = _string(data, "accessKeyId", path, problems, required=True)
    secret = _string(data, "accessKeySecret", path, problems, required=True)
    token = _string(data, "securityToken", path, problems, nullable=True)
    if not key_id or not secret:
        if key_id == "" or secret == "":
            problems.append(f"{path}: accessKeyId and accessKeySecret must not be empty")
        return None
    return Credential(key_id, secret, token or None)


def _read_shipper_tasks(
    shipper: ShipperSpec, data: Mapping[str, Any], path: str, reference: int, problems: list[str]
) -> None:
    taken: set[str] = set(shipper.tasks)
    for index, item in enumerate(_list(data, "tasks", path, problems)):
        task_path = f"{path}.tasks[{index}]"
        task = _read_task(item, task_path, reference, problems)
        if task is not None and _claim_id(task, task_path, taken, problems):
            shipper.add_task(task)
    for index, item in enumerate(_list(data, "generate", path, problems)):
        gen_path = f"{path}.generate[{index}]"
        default_prefix = f"{shipper.name}-gen{index}"
        for task in _read_generate(item, gen_path, reference, problems, default_prefix):
            if _claim_id(task, gen_path, taken, problems):
                shipper.add_task(task)


def _claim_id(task: TaskSpec, path: str, taken: set[str], problems: list[str]) -> bool:
    if task.id in taken:
        problems.append(f"{path}: task id {task.id!r} is used twice in this shipper")
        return False
    taken.add(task.id)
    return True


def _read_task(item: Any, path: str, reference: int, problems: list[str]) -> TaskSpec | None:
    data = _object(item, path, _TASK_KEYS, problems)
    if data is None:
        return None
    before = len(problems)
    task_id = _string(data, "id", path, problems, required=True)
    if task_id == "":
        problems.append(f"{path}.id: must not be empty")
    status = _status(data, "status", path, problems, default=None)
    created = _time(data, "created", path, reference, problems) if "created" in data else None
    if "created" not in data:
        problems.append(f"{path}.created: required")
    finished = 0
    if "finished" in data:
        finished = _time(data, "finished", path, reference, problems) or 0
        if status == TASK_RUNNING:
            problems.append(f"{path}.finished: a running task has no finish time")
    elif status in (TASK_SUCCESS, TASK_FAIL):
        problems.append(f"{path}.finished: required unless the status is running")
    message = _string(data, "message", path, problems, default="") or ""
    code = _string(data, "taskCode", path, problems, nullable=True)
    last_receive = None
    if "lastDataReceive" in data:
        last_receive = _time(data, "lastDataReceive", path, reference, problems)
    after_retry = _status(data, "afterRetry", path, problems, default=TASK_SUCCESS)
    retry_duration = _seconds(data, "retryDuration", path, problems, default=DEFAULT_RETRY_DURATION)
    if created is not None and finished and finished < created:
        problems.append(f"{path}.finished: is before the creation time")
    states: list[TaskState] = []
    if created is not None and status is not None:
        states = _read_states(
            data, path, problems, TaskState(created, status, message, code), finished
        )
    if len(problems) > before:
        return None
    assert task_id and status and created is not None and after_retry  # noqa: PT018
    return TaskSpec(
        task_id,
        created,
        status,
        finished,
        message=message,
        code=code,
        last_data_receive=last_receive,
        after_retry=after_retry,
        retry_duration=retry_duration or 0,
        states=states,
    )


def _read_states(
    data: Mapping[str, Any], path: str, problems: list[str], initial: TaskState, finished: int
) -> list[TaskState]:
    """The `states` of a task whose creation and first status/message/code are `initial`."""
    created, status = initial.at, initial.status
    states: list[TaskState] = []
    previous_at = -1
    for index, item in enumerate(_list(data, "states", path, problems)):
        state_path = f"{path}.states[{index}]"
        state = _object(item, state_path, _STATE_KEYS, problems)
        if state is None:
            continue
        at = None
        if "at" not in state:
            problems.append(f"{state_path}.at: required")
        else:
            try:
                at = parse_offset(state["at"])
            except ValueError as exc:
                problems.append(f"{state_path}.at: {exc}")
        new_status = _status(state, "status", state_path, problems, default=None)
        if at is None or new_status is None:
            continue
        when = created + at
        if at < 0:
            problems.append(f"{state_path}.at: must not be before the task's creation")
        elif at <= previous_at:
            problems.append(f"{state_path}.at: states must be in increasing order of 'at'")
        elif status != TASK_RUNNING and when < finished:
            problems.append(f"{state_path}.at: must not be before the task's first finish")
        previous_at = max(previous_at, at)
        if new_status == TASK_FAIL:
            default_message, default_code = initial.message, initial.code
        else:
            default_message, default_code = "", None
        new_message = _string(state, "message", state_path, problems, default=default_message)
        new_code = (
            _string(state, "taskCode", state_path, problems, nullable=True)
            if "taskCode" in state
            else default_code
        )
        states.append(TaskState(when, new_status, new_message or "", new_code))
    return states


def _read_generate(
    item: Any, path: str, reference: int, problems: list[str], default_prefix: str
) -> list[TaskSpec]:
    data = _object(item, path, _GENERATE_KEYS, problems)
    if data is None:
        return []
    before = len(problems)
    start = _time(data, "start", path, reference, problems) if "start" in data else None
    if "start" not in data:
        problems.append(f"{path}.start: required")
    every = _seconds(data, "every", path, problems, positive=True)
    count = _count(data, "count", path, problems, minimum=0)
    duration = _seconds(data, "duration", path, problems, default=DEFAULT_GENERATED_DURATION)
    status = _status(data, "status", path, problems, default=TASK_SUCCESS)
    message = _string(data, "message", path, problems, default="") or ""
    code = _string(data, "taskCode", path, problems, nullable=True)
    prefix = _string(data, "idPrefix", path, problems, default=default_prefix)
    if prefix == "":
        problems.append(f"{path}.idPrefix: must not be empty")
    fail_every = None
    if "failEvery" in data:
        fail_every = _count(data, "failEvery", path, problems, minimum=1)
    fail_message = _string(data, "failMessage", path, problems, default="InternalServerError")
    fail_code = _string(data, "failCode", path, problems, nullable=True)
    after_retry = _status(data, "afterRetry", path, problems, default=TASK_SUCCESS)
    retry_duration = _seconds(data, "retryDuration", path, problems, default=DEFAULT_RETRY_DURATION)
    if len(problems) > before:
        return []
    assert start is not None and every and count is not None and status and after_retry  # noqa: PT018
    tasks = []
    for index in range(count):
        created = start + index * every
        failing = fail_every is not None and index % fail_every == fail_every - 1
        task_status = TASK_FAIL if failing else status
        finished = 0 if task_status == TASK_RUNNING else created + (duration or 0)
        tasks.append(
            TaskSpec(
                f"{prefix}-{index}",
                created,
                task_status,
                finished,
                message=(fail_message or "") if failing else message,
                code=fail_code if failing else code,
                after_retry=after_retry,
                retry_duration=retry_duration or 0,
            )
        )
    return tasks
