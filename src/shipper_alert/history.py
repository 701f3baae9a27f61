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

from shipper_alert.durations import format_duration
from shipper_alert.models import TASK_FAIL, TASK_SUCCESS, Task, Window

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

    @property
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
    if interval <= 0 or lookback < 0:
        raise ValueError(f"interval {interval} must be > 0 and lookback {lookback} >= 0")
    count = math.ceil((window.length + lookback) / interval)
    first = window.end - count * interval
    failed = [0] * count
    succeeded = [0] * count
    for task in tasks:
        if task.status not in (TASK_FAIL, TASK_SUCCESS) or not task.finish_time:
            continue
        index = (task.finish_time - first) // interval
        if 0 <= index < count:
            (failed if task.status == TASK_FAIL else succeeded)[index] += 1
    buckets = tuple(
        Bucket(first + i * interval, first + (i + 1) * interval, failed[i], succeeded[i])
        for i in range(count)
    )
    return History(target, interval, buckets)


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
