"""Reading a scenario's JSON structure (see `shipper_alert_dev.sim.scenario` for the format)
into the scenario's tree, with every problem reported at once under its field path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipper_alert.models import TASK_FAIL, TASK_RUNNING, TASK_STATUSES, TASK_SUCCESS
from shipper_alert_dev.sim import exports
from shipper_alert_dev.sim.faults import Fault, FaultError
from shipper_alert_dev.sim.model import (
    DEFAULT_RETRY_DURATION,
    Credential,
    LogstoreSpec,
    ProjectSpec,
    ShipperSpec,
    TaskSpec,
    TaskState,
    name_problem,
)
from shipper_alert_dev.sim.times import parse_duration, parse_offset, resolve_time

if TYPE_CHECKING:
    from shipper_alert_dev.sim.scenario import Scenario

DEFAULT_GENERATED_DURATION = 60

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
        problem = name_problem(name, project)
        if problem:
            problems.append(f"{item_path}.name: {problem}")
            continue
        if name in seen:
            problems.append(f"{item_path}.name: {name!r} is already used by {seen[name]}")
            continue
        seen[name] = item_path
        out.append((item_path, name, dict(item)))
    return out


def read_scenario(scenario: Scenario, data: Any, problems: list[str]) -> None:
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
        task = read_task(item, task_path, reference, problems)
        if task is not None and claim_id(task, task_path, taken, problems):
            shipper.add_task(task)
    for index, item in enumerate(_list(data, "generate", path, problems)):
        gen_path = f"{path}.generate[{index}]"
        default_prefix = f"{shipper.name}-gen{index}"
        for task in read_generate(item, gen_path, reference, problems, default_prefix):
            if claim_id(task, gen_path, taken, problems):
                shipper.add_task(task)


def claim_id(task: TaskSpec, path: str, taken: set[str], problems: list[str]) -> bool:
    if task.id in taken:
        problems.append(f"{path}: task id {task.id!r} is used twice in this shipper")
        return False
    taken.add(task.id)
    return True


def read_task(item: Any, path: str, reference: int, problems: list[str]) -> TaskSpec | None:
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


def read_generate(
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
