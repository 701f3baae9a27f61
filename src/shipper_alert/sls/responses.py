"""Strict validation of SLS response bodies into typed values.

GetShipperStatus (https://www.alibabacloud.com/help/doc-detail/29027.htm): `count`,
`total`, `statistics`, `tasks[]` with `id`, `taskStatus`, `taskMessage`, `taskCreateTime`,
`taskLastDataReceiveTime`, `taskFinishTime`, and the newer `taskCode`; ListShipper
(https://www.alibabacloud.com/help/doc-detail/257897.htm): `shipper`, `total`;
ListLogStores (https://help.aliyun.com/zh/sls/developer-reference/api-sls-2020-12-30-listlogstores):
`logstores`, `total`.

Every field this client uses is checked, and a problem is reported as a
`SlsBadResponseError` naming the API, the field path and what is wrong, e.g.
`GetShipperStatus response: tasks[3].taskCreateTime is "abc", expected an integer`.
Fields it does not use (`statistics`, `taskDataLines`, anything new) are ignored, so that
an addition on the server side cannot break the monitor.

Rules for numbers: JSON does not distinguish integers from floats, so an integral float
(`1448925013.0`) is accepted as that integer; a fraction, a boolean, or a number written
as a string is rejected.

Tasks stay the JSON objects they were parsed as (validated records, see
`shipper_alert.models`): a page of 500 is checked in one tight pass of type tests, and
only a task that fails it is looked at field by field, to name the problem or to rewrite
an unusual but valid form (an integral float, a null message) into the usual one. The
evaluator builds objects only for the few tasks that count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, itemgetter

from shipper_alert import safe_json
from shipper_alert.models import (
    FIELD_CODE,
    FIELD_CREATE_TIME,
    FIELD_FINISH_TIME,
    FIELD_ID,
    FIELD_MESSAGE,
    FIELD_RECEIVE_TIME,
    FIELD_STATUS,
    TASK_RUNNING,
    TASK_STATUSES,
    Columns,
    Task,
)
from shipper_alert.redact import SecretScrubber
from shipper_alert.sls.errors import SlsBadResponseError, excerpt

API_GET_SHIPPER_STATUS = "GetShipperStatus"
API_LIST_LOGSTORES = "ListLogStores"
API_LIST_SHIPPER = "ListShipper"
API_RETRY_SHIPPER_TASK = "RetryShipperTask"

_MISSING = object()
# Task messages are kept to this many characters: 300 distinct 10 KB messages took
# seconds to lay out per channel and tens of MB, and an alert needs the first lines only.
MAX_TASK_MESSAGE = 1000
CLIPPED = " [...]"


class TaskPage:
    """One page of GetShipperStatus: its tasks, the range's total, and where it started.

    `records` are the validated task objects as parsed; `columns` their fields as lists
    (from validation, or made on first use); `tasks` builds a Task of each (on first use),
    for callers that want objects rather than speed.
    """

    __slots__ = ("_columns", "_tasks", "offset", "records", "request_id", "total")

    def __init__(
        self,
        tasks: list[Task] | None = None,
        total: int = 0,
        offset: int = 0,
        request_id: str = "",
        *,
        records: list[dict] | None = None,
        columns: Columns | None = None,
    ) -> None:
        if records is None:
            records = [task.to_record() for task in tasks or ()]
        self.records = records
        self._columns = columns
        self._tasks = tasks
        self.total = total
        self.offset = offset
        self.request_id = request_id

    @property
    def columns(self) -> Columns:
        if self._columns is None:
            self._columns = Columns.of(self.records)
        return self._columns

    @property
    def tasks(self) -> list[Task]:
        if self._tasks is None:
            self._tasks = [Task.from_record(record) for record in self.records]
        return self._tasks

    def __len__(self) -> int:
        return len(self.records)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskPage):
            return NotImplemented
        return (self.tasks, self.total, self.offset, self.request_id) == (
            other.tasks,
            other.total,
            other.offset,
            other.request_id,
        )

    __hash__ = None  # it holds lists

    def __repr__(self) -> str:
        return (
            f"TaskPage({len(self.records)} tasks, total={self.total}, offset={self.offset},"
            f" request_id={self.request_id!r})"
        )


@dataclass(frozen=True)
class NamePage:
    """One page of ListLogStores or ListShipper."""

    names: list[str]
    total: int


class _Reader:
    """Field access that raises a SlsBadResponseError naming the field on any mismatch."""

    def __init__(self, api: str, request_id: str) -> None:
        self.api = api
        self.request_id = request_id

    def fail(self, problem: str) -> SlsBadResponseError:
        return SlsBadResponseError(
            f"{self.api} response: {problem}", request_id=self.request_id, api=self.api
        )

    def document(self, body: bytes) -> dict[str, object]:
        try:
            parsed = safe_json.loads(body)
        except safe_json.JsonInputError as exc:
            raise self.fail(f"is {exc}: {excerpt(body)}") from None
        if not isinstance(parsed, dict):
            raise self.fail(f"is {_show(parsed)}, expected a JSON object")
        return parsed

    def get(self, obj: dict[str, object], key: str, path: str) -> object:
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            raise self.fail(f'missing "{path}"')
        return value

    def integer(self, value: object, path: str, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{path} is {_show(value)}, expected an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(f"{path} is {_show(value)}, expected an integer")
            value = int(value)
        if value < minimum:
            raise self.fail(f"{path} is {value}, expected an integer >= {minimum}")
        return value

    def string(self, value: object, path: str, *, non_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{path} is {_show(value)}, expected a string")
        if non_empty and not value:
            raise self.fail(f"{path} is empty, expected a non-empty string")
        return value

    def array(self, value: object, path: str) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(f"{path} is {_show(value)}, expected an array")
        return value

    def obj(self, value: object, path: str) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(f"{path} is {_show(value)}, expected an object")
        return value


def _show(value: object) -> str:
    """A value as the body wrote it (JSON), shortened for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return excerpt(value, limit=80)
    return json.dumps(value)


def parse_task_page(body: bytes, *, offset: int, request_id: str = "") -> TaskPage:
    """A GetShipperStatus body as a TaskPage (offset is the one the request asked for)."""
    reader = _Reader(API_GET_SHIPPER_STATUS, request_id)
    doc = reader.document(body)
    total = reader.integer(reader.get(doc, "total", "total"), "total")
    if "count" in doc:
        reader.integer(doc["count"], "count")
    items = reader.array(reader.get(doc, "tasks", "tasks"), "tasks")
    records, columns = _task_records(reader, items)
    return TaskPage(
        total=total, offset=offset, request_id=request_id, records=records, columns=columns
    )


_STATUS_SET = frozenset(TASK_STATUSES)


_STR, _INT, _NONE = frozenset({str}), frozenset({int}), type(None)
_STR_OR_NONE, _INT_OR_NONE = _STR | {_NONE}, _INT | {_NONE}
_ID, _STATUS, _CREATED = map(itemgetter, (FIELD_ID, FIELD_STATUS, FIELD_CREATE_TIME))


def _task_records(reader: _Reader, items: list[object]) -> tuple[list[dict], Columns | None]:
    """`items` as validated records: the same list when every item is already one (with
    the columns that showed it)."""
    kept: dict[str, bool] = {}  # message -> clipping and scrubbing leave it as it is
    columns = _all_usual(items, kept)
    if columns is not None:
        return items, columns  # type: ignore[return-value]
    records: list = items
    statuses = _STATUS_SET
    for index, item in enumerate(items):
        # `type(x) is int` keeps out booleans; each test mirrors one rule of _parse_task.
        if type(item) is dict:
            get = item.get
            task_id = get(FIELD_ID)
            status = get(FIELD_STATUS)
            created = get(FIELD_CREATE_TIME)
            finished = get(FIELD_FINISH_TIME)
            message = get(FIELD_MESSAGE)
            code = get(FIELD_CODE)
            received = get(FIELD_RECEIVE_TIME)
            if (
                type(task_id) is str
                and task_id
                and type(status) is str
                and status in statuses
                and type(created) is int
                and created >= 0
                and (
                    (type(finished) is int and finished >= 0)
                    or (finished is None and status == TASK_RUNNING)
                )
                # A message that clipping or scrubbing would change goes the slow way.
                and (
                    message is None
                    or message == ""
                    or (type(message) is str and _kept_as_is(message, kept))
                )
                and (code is None or type(code) is str)
                and (received is None or (type(received) is int and received >= 0))
            ):
                continue
        # Raises the error naming the field, or returns the task in its usual form.
        task = _parse_task(reader, item, f"tasks[{index}]")
        if records is items:
            records = list(items)
        records[index] = task.to_record()
    return records, None


def _all_usual(items: list[object], kept: dict[str, bool]) -> Columns | None:
    """Whether every item passes the rules of `_task_records`' loop, tested a field at a
    time over the whole page (loops in C), as the page's columns; None sends the page
    through that loop, which then names the problem or rewrites the unusual tasks (a null
    finish time among them)."""
    if not items:
        return Columns([], frozenset(), [], [])
    try:
        # Every field is read with a dict method or a string key: an item that is not an
        # object raises TypeError in the first of them.
        ids = list(map(_ID, items))  # KeyError: a field is missing
        statuses = frozenset(map(_STATUS, items))  # TypeError: an unhashable status
        created = list(map(_CREATED, items))
        finished = list(map(dict.get, items, repeat(FIELD_FINISH_TIME)))
        messages = set(map(dict.get, items, repeat(FIELD_MESSAGE)))
        codes = set(map(type, map(dict.get, items, repeat(FIELD_CODE))))
        received = list(map(dict.get, items, repeat(FIELD_RECEIVE_TIME)))
    except (KeyError, TypeError):
        return None
    finish_types = set(map(type, finished))
    usual = (
        set(map(type, ids)) == _STR
        and all(ids)
        and statuses <= _STATUS_SET
        and set(map(type, created)) == _INT
        and min(created) >= 0
        and (finish_types == _INT or _null_only_while_running(items, finished, finish_types))
        # filter(None, ...) leaves out nulls (and zeros, which pass anyway).
        and min(filter(None, finished), default=0) >= 0
        and codes <= _STR_OR_NONE
        and set(map(type, received)) <= _INT_OR_NONE
        and min(filter(None, received), default=0) >= 0
        and all(m is None or m == "" or (type(m) is str and _kept_as_is(m, kept)) for m in messages)
    )
    return Columns(ids, statuses, created, finished) if usual else None


def _null_only_while_running(items: list[dict], finished: list, types: set[type]) -> bool:
    """Whether the finish times are integers or null (or missing), null only on running
    tasks: the form `_task_records`' loop keeps as it is."""
    if not types <= _INT_OR_NONE:
        return False
    unfinished = compress(map(_STATUS, items), map(is_, finished, repeat(None)))
    return set(unfinished) <= {TASK_RUNNING}


def _kept_as_is(message: str, kept: dict[str, bool]) -> bool:
    """Whether `message` needs neither clipping nor scrubbing (`kept` remembers, per page:
    the failed tasks of a page mostly share a few messages)."""
    as_is = kept.get(message)
    if as_is is None:
        as_is = kept[message] = SecretScrubber.scrub(_clip(message)) == message
    return as_is


def _clip(message: str) -> str:
    """A task message cut to MAX_TASK_MESSAGE characters, saying so."""
    if len(message) <= MAX_TASK_MESSAGE:
        return message
    return message[: MAX_TASK_MESSAGE - len(CLIPPED)] + CLIPPED


def _parse_task(reader: _Reader, item: object, path: str) -> Task:
    task = reader.obj(item, path)
    task_id = reader.string(reader.get(task, "id", f"{path}.id"), f"{path}.id", non_empty=True)
    status_path = f"{path}.taskStatus"
    status = reader.string(reader.get(task, "taskStatus", status_path), status_path)
    if status not in TASK_STATUSES:
        allowed = ", ".join(f'"{s}"' for s in TASK_STATUSES)
        raise reader.fail(f"{status_path} is {_show(status)}, expected one of {allowed}")

    # A missing or null message (even on a failed task) reads as "": the failure itself is
    # what must be reported, and the alert says "(no message)" rather than turning it into
    # a monitor error. A message of the wrong type is still a bad response.
    message_path = f"{path}.taskMessage"
    message = task.get("taskMessage")
    message = "" if message is None else reader.string(message, message_path)
    message = SecretScrubber.scrub(_clip(message))  # it goes into messages and the result

    code = task.get("taskCode")
    if code is not None:
        code = reader.string(code, f"{path}.taskCode") or None

    create_path = f"{path}.taskCreateTime"
    create_time = reader.integer(reader.get(task, "taskCreateTime", create_path), create_path)

    finish_path = f"{path}.taskFinishTime"
    finish = task.get("taskFinishTime")
    if status == TASK_RUNNING and finish is None:
        finish_time = 0
    else:
        finish_time = reader.integer(reader.get(task, "taskFinishTime", finish_path), finish_path)

    receive = task.get("taskLastDataReceiveTime")
    receive_time = (
        None if receive is None else reader.integer(receive, f"{path}.taskLastDataReceiveTime")
    )
    return Task(
        id=task_id,
        status=status,
        message=message,
        create_time=create_time,
        finish_time=finish_time,
        last_data_receive_time=receive_time,
        code=code,
    )


def parse_name_page(body: bytes, *, api: str, key: str, request_id: str = "") -> NamePage:
    """A ListLogStores (`logstores`) or ListShipper (`shipper`) body as a NamePage."""
    reader = _Reader(api, request_id)
    doc = reader.document(body)
    total = reader.integer(reader.get(doc, "total", "total"), "total")
    if "count" in doc:
        reader.integer(doc["count"], "count")
    items = reader.array(reader.get(doc, key, key), key)
    names = [reader.string(item, f"{key}[{i}]", non_empty=True) for i, item in enumerate(items)]
    return NamePage(names=names, total=total)


def parse_logstores(body: bytes, request_id: str = "") -> NamePage:
    return parse_name_page(body, api=API_LIST_LOGSTORES, key="logstores", request_id=request_id)


def parse_shippers(body: bytes, request_id: str = "") -> NamePage:
    return parse_name_page(body, api=API_LIST_SHIPPER, key="shipper", request_id=request_id)
