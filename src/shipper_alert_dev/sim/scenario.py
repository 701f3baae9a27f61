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

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shipper_alert_dev.sim import exports
from shipper_alert_dev.sim.faults import Fault
from shipper_alert_dev.sim.model import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_CREDENTIAL,
    Credential,
    LogstoreSpec,
    ProjectSpec,
    ScenarioError,
    ShipperSpec,
    TaskSpec,
    TaskState,
    TaskView,
    check_name,
)
from shipper_alert_dev.sim.scenario_file import claim_id, read_generate, read_scenario, read_task
from shipper_alert_dev.sim.times import parse_duration, parse_instant, parse_offset, resolve_time

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_ACCESS_KEY_SECRET",
    "Credential",
    "LogstoreSpec",
    "ProjectSpec",
    "Scenario",
    "ScenarioError",
    "ShipperSpec",
    "TaskSpec",
    "TaskState",
    "TaskView",
    "parse_duration",
    "parse_instant",
    "parse_offset",
    "resolve_time",
]


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
        read_scenario(scenario, data, problems)
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
        check_name(project, "project", project=True)
        with self.lock:
            return self.projects.setdefault(project, ProjectSpec(project))

    def add_logstore(self, project: str, logstore: str) -> LogstoreSpec:
        check_name(logstore, "logstore")
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
        check_name(shipper, "shipper")
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
                    else read_task(item, path, reference, problems)
                )
                if task is not None:
                    claim_id(task, path, taken, problems)
                    built.append(task)
            for index, item in enumerate(generate):
                for task in read_generate(
                    item, f"generate[{index}]", reference, problems, f"{shipper}-gen{index}"
                ):
                    claim_id(task, f"generate[{index}]", taken, problems)
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
