"""Value objects shared by every stage: the checked window, shipper references, tasks.

All times are whole epoch seconds (UTC). Objects are frozen: a stage receives them and
returns new ones, so data flows one way (event -> config -> fetch -> evaluate -> render ->
deliver -> result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

from shipper_alert.validation import name_problem

TASK_SUCCESS = "success"
TASK_FAIL = "fail"
TASK_RUNNING = "running"
TASK_STATUSES = (TASK_SUCCESS, TASK_FAIL, TASK_RUNNING)

WILDCARD = "*"


@dataclass(frozen=True)
class Window:
    """The half-open interval [start, end) of epoch seconds that one check covers."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"window start {self.start} is not before its end {self.end}")

    @property
    def length(self) -> int:
        return self.end - self.start

    def contains(self, instant: int) -> bool:
        return self.start <= instant < self.end

    def previous(self) -> Window:
        """The window of the same length that ends where this one starts."""
        return Window(self.start - self.length, self.start)

    def to_json(self) -> dict[str, int]:
        return {"from": self.start, "to": self.end}


@dataclass(frozen=True, order=True)
class ShipperRef:
    """One shipper, `project/logstore/shipper`; `*` marks a pattern still to be expanded."""

    project: str
    logstore: str
    shipper: str

    @property
    def is_pattern(self) -> bool:
        return WILDCARD in (self.logstore, self.shipper)

    def __str__(self) -> str:
        return f"{self.project}/{self.logstore}/{self.shipper}"

    def to_json(self) -> dict[str, str]:
        return {"project": self.project, "logstore": self.logstore, "shipper": self.shipper}

    @classmethod
    def parse(cls, text: str) -> ShipperRef:
        """`project/logstore/shipper`, `*` allowed as logstore or shipper; ValueError if not."""
        segments = text.split("/")
        if len(segments) != 3 or not all(segments):
            raise ValueError(f"{text!r} is not project/logstore/shipper")
        project, logstore, shipper = segments
        for kind, value in (("project", project), ("logstore", logstore), ("shipper", shipper)):
            problem = None if kind != "project" and value == WILDCARD else name_problem(kind, value)
            if problem:
                raise ValueError(f"{text!r}: {problem}")
        return cls(project, logstore, shipper)


# A task's fields in a GetShipperStatus body
# (https://www.alibabacloud.com/help/doc-detail/29027.htm). A validated task record is
# that JSON object as parsed, once `shipper_alert.sls.responses` has checked it: the id a
# non-empty string, the status one of TASK_STATUSES, the times non-negative integers (the
# finish time may be missing or null while running), message and code strings or null.
FIELD_ID = "id"
FIELD_STATUS = "taskStatus"
FIELD_MESSAGE = "taskMessage"
FIELD_CODE = "taskCode"
FIELD_CREATE_TIME = "taskCreateTime"
FIELD_FINISH_TIME = "taskFinishTime"
FIELD_RECEIVE_TIME = "taskLastDataReceiveTime"


@dataclass(frozen=True, slots=True)
class Task:
    """One LogShipper task as GetShipperStatus reports it (already validated)."""

    id: str
    status: str
    message: str
    create_time: int
    finish_time: int
    last_data_receive_time: int | None = None
    code: str | None = None

    @classmethod
    def from_record(cls, record: dict) -> Task:
        """The task a validated record describes (no message is "", an empty code None)."""
        get = record.get
        return cls(
            id=record[FIELD_ID],
            status=record[FIELD_STATUS],
            message=get(FIELD_MESSAGE) or "",
            create_time=record[FIELD_CREATE_TIME],
            finish_time=get(FIELD_FINISH_TIME) or 0,
            last_data_receive_time=get(FIELD_RECEIVE_TIME),
            code=get(FIELD_CODE) or None,
        )

    def to_record(self) -> dict[str, object]:
        """This task as a validated record, the form `from_record` reads."""
        return {
            FIELD_ID: self.id,
            FIELD_STATUS: self.status,
            FIELD_MESSAGE: self.message,
            FIELD_CODE: self.code,
            FIELD_CREATE_TIME: self.create_time,
            FIELD_FINISH_TIME: self.finish_time,
            FIELD_RECEIVE_TIME: self.last_data_receive_time,
        }


_IDS, _STATUSES, _CREATE_TIMES = map(itemgetter, (FIELD_ID, FIELD_STATUS, FIELD_CREATE_TIME))


@dataclass(frozen=True, slots=True)
class Columns:
    """Fields of a page's validated records, one list each in record order.

    Code that looks at every task of a page (paging, evaluation) reads these in loops that
    run in C instead of a Python loop over the records; validation makes them as it checks
    the page. A finish time is None where the record has none (running).
    """

    ids: list[str]
    statuses: frozenset[str]  # the statuses on the page
    create_times: list[int]
    finish_times: list[int | None]

    @classmethod
    def of(cls, records: Sequence[dict]) -> Columns:
        return cls(
            list(map(_IDS, records)),
            frozenset(map(_STATUSES, records)),
            list(map(_CREATE_TIMES, records)),
            list(map(dict.get, records, repeat(FIELD_FINISH_TIME))),
        )
