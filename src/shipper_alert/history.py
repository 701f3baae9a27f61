"""A picture of the last hours: per target, failed and succeeded tasks per interval.

`history` counts a target's tasks by finish time into equal intervals that end where the
checked window ends and reach back over LOOKBACK, so a reader sees whether a failure is a
blip, a growing outage or a shipper that stopped creating tasks. `bar_line` draws it for
chat channels with block characters; `history_chart.html_chart` draws it for email.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property

from shipper_alert.durations import format_duration
from shipper_alert.models import (
    FIELD_FINISH_TIME,
    FIELD_ID,
    FIELD_STATUS,
    TASK_FAIL,
    TASK_SUCCESS,
    Task,
    Window,
)

MAX_BARS = 24
# Interval lengths a reader knows at a glance, in seconds.
NICE_INTERVALS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class Bucket:
    start: int
    end: int
    failed: int = 0
    succeeded: int = 0

    @property
    def empty(self) -> bool:
        return self.failed == 0 and self.succeeded == 0


@dataclass(frozen=True)
class History:
    target: str
    interval: int
    buckets: tuple[Bucket, ...]

    @property
    def start(self) -> int:
        return self.buckets[0].start

    @property
    def end(self) -> int:
        return self.buckets[-1].end

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.buckets)

    @property
    def succeeded(self) -> int:
        return sum(b.succeeded for b in self.buckets)

    @cached_property  # the history is immutable; every bar of a chart asks for it
    def peak(self) -> int:
        """The largest count of one bar, failed or succeeded: the scale of every bar."""
        return max((max(b.failed, b.succeeded) for b in self.buckets), default=0)


def choose_interval(span: int, minimum: int = 60, max_bars: int = MAX_BARS) -> int:
    """The shortest nice interval of at least `minimum` that draws `span` in `max_bars`."""
    if span <= 0 or minimum <= 0 or max_bars <= 0:
        raise ValueError(f"span {span}, minimum {minimum} and max_bars {max_bars} must be > 0")
    needed = max(minimum, math.ceil(span / max_bars))
    for interval in NICE_INTERVALS:
        if interval >= needed:
            return interval
    return needed


def history(
    target: str, tasks: Iterable[Task], window: Window, lookback: int, interval: int
) -> History:
    """Counts per interval over [window.start - lookback, window.end), by finish time;
    running tasks have no finish time and are not counted. The last interval ends at
    window.end, the first may start a little before the lookback.
    """
    counter = TimelineCounter(target, window, lookback, interval)
    for task in tasks:
        counter.add(task.status, task.finish_time)
    return counter.result()


class TimelineCounter:
    """`history` fed with (status, finish time) as pages arrive, without building a Task
    for each of the thousands of tasks in the lookback; a task seen twice counts once."""

    def __init__(self, target: str, window: Window, lookback: int, interval: int) -> None:
        if interval <= 0 or lookback < 0:
            raise ValueError(f"interval {interval} must be > 0 and lookback {lookback} >= 0")
        self._target, self._interval = target, interval
        self._count = math.ceil((window.length + lookback) / interval)
        self._first = window.end - self._count * interval
        self._failed = [0] * self._count
        self._succeeded = [0] * self._count
        self._seen: set[str] = set()

    def add(self, status: str, finish_time: int | None) -> None:
        if finish_time:  # a running task has none; the rule itself is add_records'
            record = {FIELD_STATUS: status, FIELD_FINISH_TIME: finish_time}
            self.add_records((record,), distinct=True)

    def add_records(self, records: Iterable[dict], *, distinct: bool = False) -> None:
        """`add` for validated task records (see `shipper_alert.models`), inline.

        `distinct`: the caller gives each task once (as `SlsClient.iter_task_pages` does),
        so ids need not be remembered here: with tens of thousands of tasks a shipper, that
        set cost more memory than anything else the check keeps.
        """
        first, interval, count = self._first, self._interval, self._count
        failed, succeeded, seen = self._failed, self._succeeded, self._seen
        for record in records:
            if not distinct:
                task_id = record[FIELD_ID]
                if task_id in seen:
                    continue
                seen.add(task_id)
            status = record[FIELD_STATUS]
            if status == TASK_SUCCESS:
                bars = succeeded
            elif status == TASK_FAIL:
                bars = failed
            else:
                continue
            finished = record[FIELD_FINISH_TIME]
            index = (finished - first) // interval
            if finished and 0 <= index < count:
                bars[index] += 1

    def result(self) -> History:
        first, interval = self._first, self._interval
        buckets = tuple(
            Bucket(first + i * interval, first + (i + 1) * interval, f, s)
            for i, (f, s) in enumerate(zip(self._failed, self._succeeded, strict=True))
        )
        return History(self._target, interval, buckets)


BLOCKS = "▁▂▃▄▅▆▇█"
NONE = "·"


def _level(count: int, peak: int) -> str:
    if count <= 0 or peak <= 0:
        return NONE
    return BLOCKS[min(len(BLOCKS), math.ceil(count / peak * len(BLOCKS))) - 1]


def bar_line(h: History) -> str:
    """`failed ··▁▃█ · succeeded ██▇▂·`: one bar per interval, both on the scale of the
    largest bar, "·" for none, so a stopped shipper shows as dots in both.
    """
    fails = "".join(_level(b.failed, h.peak) for b in h.buckets)
    oks = "".join(_level(b.succeeded, h.peak) for b in h.buckets)
    return f"failed {fails} · succeeded {oks}"


def clock(epoch: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, tz).strftime("%H:%M")


def span_label(h: History, tz: tzinfo, tz_name: str) -> str:
    """`06:05–08:05 UTC, 5m a bar`: what the bars cover, for the line under them."""
    return f"{clock(h.start, tz)}–{clock(h.end, tz)} {tz_name}, {format_duration(h.interval)} a bar"
