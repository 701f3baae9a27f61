"""Strict validation of SLS response bodies (https://www.alibabacloud.com/help/doc-detail/29027.htm and ListLogStores)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipper_alert.models import Columns, Task
from shipper_alert.redact import SecretScrubber
from shipper_alert.sls.errors import SlsBadResponseError
from shipper_alert.sls.responses import (
    NamePage,
    TaskPage,
    _all_usual,
    parse_logstores,
    parse_shippers,
    parse_task_page,
)


def _task(**changes: Any) -> dict[str, Any]:
    task = {
        "id": "t-1",
        "taskStatus": "fail",
        "taskMessage": "UnAuthorized",
        "taskCode": "UnAuthorized",
        "taskCreateTime": 1448925013,
        "taskLastDataReceiveTime": 1448915013,
        "taskFinishTime": 1448926013,
        "taskDataLines": 12,
    }
    for key, value in changes.items():
        if value is _DROP:
            task.pop(key)
        else:
            task[key] = value
    return task


_DROP = object()


def _body(task_list: list[Any], /, **top: Any) -> bytes:
    doc = {
        "count": len(task_list),
        "total": 20,
        "statistics": {"running": 0, "success": 19, "fail": 1},
        "tasks": task_list,
    }
    for key, value in top.items():
        if value is _DROP:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc).encode()


def test_the_documented_example_parses() -> None:
    body = b"""{
        "count" : 1, "total" : 20,
        "statistics" : {"running" : 0, "success" : 20, "fail" : 0},
        "tasks" : [{"id" : "abcdefghijk", "taskStatus" : "success", "taskMessage" : "",
                    "taskCreateTime" : 1448925013, "taskLastDataReceiveTime" : 1448915013,
                    "taskFinishTime" : 1448926013}]}"""
    page = parse_task_page(body, offset=500, request_id="RID")
    assert page == TaskPage(
        tasks=[
            Task(
                id="abcdefghijk",
                status="success",
                message="",
                create_time=1448925013,
                finish_time=1448926013,
                last_data_receive_time=1448915013,
                code=None,
            )
        ],
        total=20,
        offset=500,
        request_id="RID",
    )


ACCEPTED = [
    ("failed task with code", _task(), ("fail", "UnAuthorized", "UnAuthorized", 1448926013)),
    ("null code", _task(taskCode=None), ("fail", "UnAuthorized", None, 1448926013)),
    ("empty code", _task(taskCode=""), ("fail", "UnAuthorized", None, 1448926013)),
    ("missing code", _task(taskCode=_DROP), ("fail", "UnAuthorized", None, 1448926013)),
    ("failed, empty message", _task(taskMessage=""), ("fail", "", "UnAuthorized", 1448926013)),
    # A failed task is reported even when SLS sends no message for it.
    ("failed, no message", _task(taskMessage=_DROP), ("fail", "", "UnAuthorized", 1448926013)),
    ("failed, null message", _task(taskMessage=None), ("fail", "", "UnAuthorized", 1448926013)),
    (
        "success without message",
        _task(taskStatus="success", taskMessage=_DROP, taskCode=_DROP),
        ("success", "", None, 1448926013),
    ),
    (
        "success with null message",
        _task(taskStatus="success", taskMessage=None, taskCode=_DROP),
        ("success", "", None, 1448926013),
    ),
    (
        "running without finish time",
        _task(taskStatus="running", taskMessage=_DROP, taskFinishTime=_DROP, taskCode=_DROP),
        ("running", "", None, 0),
    ),
    (
        "running with finish time 0",
        _task(taskStatus="running", taskMessage="", taskFinishTime=0, taskCode=_DROP),
        ("running", "", None, 0),
    ),
    (
        "running with null finish time",
        _task(taskStatus="running", taskMessage=None, taskFinishTime=None, taskCode=_DROP),
        ("running", "", None, 0),
    ),
    (
        "integral float",
        _task(taskFinishTime=1448926013.0),
        ("fail", "UnAuthorized", "UnAuthorized", 1448926013),
    ),
    (
        "unknown fields",
        _task(future={"x": 1}),
        ("fail", "UnAuthorized", "UnAuthorized", 1448926013),
    ),
]


@pytest.mark.parametrize(
    ("task", "expected"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted_tasks(task: dict[str, Any], expected: tuple[Any, ...]) -> None:
    (parsed,) = parse_task_page(_body([task]), offset=0).tasks
    assert (parsed.status, parsed.message, parsed.code, parsed.finish_time) == expected
    assert parsed.create_time == 1448925013


def test_records_hold_every_accepted_form_as_the_usual_one() -> None:
    """The evaluator reads records directly: each accepted task's record must say what its
    Task says, with integers for times and a running task's finish time as 0 or null."""
    page = parse_task_page(_body([a[1] for a in ACCEPTED]), offset=0)
    assert len(page.records) == len(ACCEPTED)
    for (name, _, expected), record in zip(ACCEPTED, page.records, strict=True):
        assert type(record["taskCreateTime"]) is int, name
        finish = record.get("taskFinishTime")
        assert type(finish) is int or (finish is None and expected[0] == "running"), name
        task = Task.from_record(record)
        assert (task.status, task.message, task.code, task.finish_time) == expected, name


@pytest.mark.parametrize("usual", [True, False], ids=["usual-page", "rewritten-page"])
def test_a_page_s_columns_are_its_records_fields(usual: bool) -> None:
    """Paging and evaluation read the columns instead of the records: they must agree,
    whether validation made them (a usual page) or the page made them (a rewritten one)."""
    tasks = [_task(id="t-1"), _task(id="t-2", taskStatus="success", taskCreateTime=7)]
    tasks.append(_task(id="t-3", taskStatus="running", taskFinishTime=0 if usual else None))
    page = parse_task_page(_body(tasks), offset=0)
    assert page.columns == Columns.of(page.records)
    assert page.columns.ids == ["t-1", "t-2", "t-3"]
    assert page.columns.create_times == [1448925013, 7, 1448925013]
    assert page.columns.finish_times == [1448926013, 1448926013, 0 if usual else None]
    assert page.columns.statuses == {"fail", "success", "running"}


@pytest.mark.parametrize(
    ("changes", "usual"),
    [
        ({}, True),
        ({"taskStatus": "running", "taskFinishTime": None}, True),
        ({"taskStatus": "running", "taskFinishTime": _DROP}, True),
        ({"taskStatus": "success", "taskFinishTime": None}, False),
        ({"taskFinishTime": True}, False),
        ({"taskLastDataReceiveTime": None}, True),
        ({"taskLastDataReceiveTime": -1}, False),
        ({"taskLastDataReceiveTime": 1.0}, False),
    ],
)
def test_which_pages_validation_takes_in_one_pass(changes: dict, usual: bool) -> None:
    """A page of usual tasks (a running one without a finish time among them) is checked
    a field at a time and keeps its columns; anything else goes task by task."""
    items = [_task(id="a"), _task(id="b", **changes)]
    columns = _all_usual(items, {})
    assert (columns is not None) is usual
    if usual:
        assert columns == Columns.of(items)
    for item in ([], "x", None, 3):
        assert _all_usual([*items, item], {}) is None


def test_last_data_receive_time_is_optional() -> None:
    (parsed,) = parse_task_page(_body([_task(taskLastDataReceiveTime=_DROP)]), offset=0).tasks
    assert parsed.last_data_receive_time is None


def test_count_and_statistics_are_optional() -> None:
    page = parse_task_page(_body([_task()], count=_DROP, statistics=_DROP), offset=0)
    assert page.total == 20
    assert len(page.tasks) == 1


P = "GetShipperStatus response: "
REJECTED = [
    ("not JSON", b"<html>oops</html>", P + 'is not valid JSON: "<html>oops</html>"'),
    ("empty body", b"", P + 'is not valid JSON: ""'),
    ("not UTF-8", b"\xff\xfe{", P + 'is not UTF-8 (byte 0): "\ufffd\ufffd{"'),
    (
        "nested 1,000 deep",
        b"[" * 1000 + b"]" * 1000,
        P + 'is nested more than 32 levels deep: "' + "[" * 200 + '"...',
    ),
    (
        "nested 33 deep",
        b'{"total": 1, "tasks": ' + b"[" * 32 + b"]" * 32 + b"}",
        P
        + 'is nested more than 32 levels deep: "{\\"total\\": 1, \\"tasks\\": '
        + "[" * 32
        + "]" * 32
        + '}"',
    ),
    ("NaN", b'{"total": NaN}', P + 'is not valid JSON: "{\\"total\\": NaN}"'),
    ("array", b"[]", P + "is an array, expected a JSON object"),
    ("null", b"null", P + "is null, expected a JSON object"),
    ("missing total", _body([], total=_DROP), P + 'missing "total"'),
    ("missing tasks", _body([], tasks=_DROP), P + 'missing "tasks"'),
    ("string total", _body([], total="20"), P + 'total is "20", expected an integer'),
    ("bool total", _body([], total=True), P + "total is true, expected an integer"),
    ("negative total", _body([], total=-1), P + "total is -1, expected an integer >= 0"),
    ("fraction total", _body([], total=2.5), P + "total is 2.5, expected an integer"),
    ("bad count", _body([], count=None), P + "count is null, expected an integer"),
    ("tasks object", _body([], tasks={"a": 1}), P + "tasks is an object, expected an array"),
    ("task not object", _body([_task(), 5]), P + "tasks[1] is 5, expected an object"),
    (
        "create time abc",
        _body([_task(), _task(), _task(), _task(taskCreateTime="abc")]),
        P + 'tasks[3].taskCreateTime is "abc", expected an integer',
    ),
    (
        "create time missing",
        _body([_task(taskCreateTime=_DROP)]),
        P + 'missing "tasks[0].taskCreateTime"',
    ),
    (
        "create time float",
        _body([_task(taskCreateTime=1.5)]),
        P + "tasks[0].taskCreateTime is 1.5, expected an integer",
    ),
    (
        "create time bool",
        _body([_task(taskCreateTime=False)]),
        P + "tasks[0].taskCreateTime is false, expected an integer",
    ),
    ("id missing", _body([_task(id=_DROP)]), P + 'missing "tasks[0].id"'),
    ("id number", _body([_task(id=7)]), P + "tasks[0].id is 7, expected a string"),
    ("id empty", _body([_task(id="")]), P + "tasks[0].id is empty, expected a non-empty string"),
    ("status missing", _body([_task(taskStatus=_DROP)]), P + 'missing "tasks[0].taskStatus"'),
    (
        "status unknown",
        _body([_task(taskStatus="failed")]),
        P + 'tasks[0].taskStatus is "failed", expected one of "success", "fail", "running"',
    ),
    (
        "message number",
        _body([_task(taskStatus="success", taskMessage=0)]),
        P + "tasks[0].taskMessage is 0, expected a string",
    ),
    ("code number", _body([_task(taskCode=5)]), P + "tasks[0].taskCode is 5, expected a string"),
    (
        "finish missing for success",
        _body([_task(taskStatus="success", taskFinishTime=_DROP)]),
        P + 'missing "tasks[0].taskFinishTime"',
    ),
    (
        "finish null for fail",
        _body([_task(taskFinishTime=None)]),
        P + "tasks[0].taskFinishTime is null, expected an integer",
    ),
    (
        "finish string for running",
        _body([_task(taskStatus="running", taskFinishTime="soon")]),
        P + 'tasks[0].taskFinishTime is "soon", expected an integer',
    ),
    (
        "receive time string",
        _body([_task(taskLastDataReceiveTime="x")]),
        P + 'tasks[0].taskLastDataReceiveTime is "x", expected an integer',
    ),
    (
        "long value shortened",
        _body([_task(taskCreateTime="y" * 100)]),
        P + 'tasks[0].taskCreateTime is "' + "y" * 80 + '"..., expected an integer',
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected_task_pages(body: bytes, message: str) -> None:
    with pytest.raises(SlsBadResponseError) as caught:
        parse_task_page(body, offset=0, request_id="RID")
    error = caught.value
    assert error.message == message
    assert (error.code, error.api, error.request_id, error.status) == (
        "BadResponse",
        "GetShipperStatus",
        "RID",
        None,
    )
    assert str(error) == f"GetShipperStatus: BadResponse: {message} [request RID]"


def test_invalid_json_quotes_only_200_characters() -> None:
    with pytest.raises(SlsBadResponseError) as caught:
        parse_task_page(b"<" * 300, offset=0)
    assert caught.value.message == P + 'is not valid JSON: "' + "<" * 200 + '"...'


def test_name_pages() -> None:
    assert parse_logstores(b'{"count": 2, "total": 3, "logstores": ["a", "b"]}') == NamePage(
        names=["a", "b"], total=3
    )
    assert parse_shippers(b'{"count": 1, "shipper": ["s"], "total": 1}') == NamePage(
        names=["s"], total=1
    )


NAME_REJECTED = [
    (parse_logstores, b'{"total": 1}', 'ListLogStores response: missing "logstores"'),
    (parse_logstores, b'{"logstores": []}', 'ListLogStores response: missing "total"'),
    (
        parse_logstores,
        b'{"total": 1, "logstores": ["a", 3]}',
        "ListLogStores response: logstores[1] is 3, expected a string",
    ),
    (
        parse_shippers,
        b'{"total": 1, "shipper": [""]}',
        "ListShipper response: shipper[0] is empty, expected a non-empty string",
    ),
    (
        parse_shippers,
        b'{"total": 1, "shipper": "s"}',
        'ListShipper response: shipper is "s", expected an array',
    ),
    (parse_shippers, b"nope", 'ListShipper response: is not valid JSON: "nope"'),
]


@pytest.mark.parametrize(("parse", "body", "message"), NAME_REJECTED)
def test_rejected_name_pages(parse: Any, body: bytes, message: str) -> None:
    with pytest.raises(SlsBadResponseError) as caught:
        parse(body)
    assert caught.value.message == message


def test_a_long_task_message_is_clipped_and_says_so():
    long = "x" * 50_000  # 300 of these took seconds to lay out per channel
    (task,) = parse_task_page(_body([_task(taskMessage=long)]), offset=0).tasks
    assert len(task.message) == 1000
    assert task.message == "x" * 994 + " [...]"


def test_task_messages_are_scrubbed_of_secrets_and_clean_ones_kept_as_parsed():
    SecretScrubber.register("sls-test-secret-4711")
    clean = _task(id="a", taskMessage="role cannot write")
    leaking = _task(id="b", taskMessage="denied for sls-test-secret-4711")
    tasks = [clean, leaking, {**clean, "id": "c"}, {**leaking, "id": "d"}, _task(id="e")]
    page = parse_task_page(_body(tasks), offset=0)
    assert [r["taskMessage"] for r in page.records] == [
        "role cannot write",
        "denied for ***",
        "role cannot write",
        "denied for ***",
        "UnAuthorized",
    ]
    assert page.records[0] == clean  # unknown fields and all, as the body had it
    assert [t.message for t in page.tasks][1] == "denied for ***"
