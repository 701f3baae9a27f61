"""History per interval, the chat bar line and the email chart."""

from __future__ import annotations

import re
from datetime import timezone
from html.parser import HTMLParser

import pytest

from shipper_alert.history import (
    TimelineCounter,
    bar_line,
    choose_interval,
    history,
    span_label,
)
from shipper_alert.history_chart import FAILED_COLOUR, SUCCEEDED_COLOUR, html_chart
from shipper_alert.models import Task, Window

WINDOW = Window(1795852800, 1795853100)  # 2026-11-28 08:00 - 08:05 UTC
HOUR = 3600


def task(n: int, status: str, finished: int) -> Task:
    return Task(f"t{n}", status, "", finished - 60, finished if status != "running" else 0)


@pytest.mark.parametrize(
    ("span", "minimum", "interval"),
    [
        (6 * HOUR + 300, 300, 1800),  # 6h05m in at most 24 bars
        (3600, 300, 300),
        (600, 300, 300),
        (47 * HOUR, 300, 7200),
        (10 * 86400 * 24, 60, 86400 * 10),  # past the nice steps: exact
    ],
)
def test_choose_interval(span, minimum, interval):
    assert choose_interval(span, minimum) == interval


def test_choose_interval_rejects_nonsense():
    with pytest.raises(ValueError, match="must be > 0"):
        choose_interval(0)


def test_history_counts_by_finish_time_into_intervals_ending_at_the_window():
    tasks = [
        task(1, "success", WINDOW.end - 1),  # last bucket
        task(2, "fail", WINDOW.end - 1),
        task(3, "fail", WINDOW.end - 301),  # the bucket before
        task(4, "success", WINDOW.end),  # after the window: not counted
        task(5, "running", WINDOW.end - 10),  # no finish: not counted
        task(6, "success", WINDOW.start - HOUR),  # first bucket
        task(7, "success", WINDOW.start - HOUR - 1),  # before the lookback
    ]
    h = history("p/l/s", tasks, WINDOW, lookback=HOUR, interval=300)
    assert len(h.buckets) == 13
    assert (h.start, h.end) == (WINDOW.start - HOUR, WINDOW.end)
    assert [(b.failed, b.succeeded) for b in h.buckets] == (
        [(0, 1)] + [(0, 0)] * 10 + [(1, 0), (1, 1)]
    )
    assert (h.failed, h.succeeded, h.peak) == (2, 2, 1)


def test_records_from_the_reader_count_as_tasks_with_or_without_remembering_ids():
    tasks = [task(n, s, WINDOW.end - 1 - 290 * n) for n, s in enumerate(["fail", "success"] * 7)]
    tasks.append(task(99, "running", WINDOW.end - 5))
    records = [t.to_record() for t in tasks]
    expected = history("p/l/s", tasks, WINDOW, lookback=HOUR, interval=300)
    for distinct in (False, True):
        counter = TimelineCounter("p/l/s", WINDOW, HOUR, 300)
        counter.add_records(records[:5], distinct=distinct)
        counter.add_records(records[5:], distinct=distinct)
        assert counter.result() == expected, distinct
    assert (expected.failed, expected.succeeded) == (7, 7)


def test_history_first_interval_may_start_before_the_lookback():
    h = history("p/l/s", [], WINDOW, lookback=1000, interval=600)
    assert len(h.buckets) == 3
    assert h.start == WINDOW.end - 1800
    assert all(b.empty for b in h.buckets)


def test_history_rejects_a_zero_interval():
    with pytest.raises(ValueError, match="interval 0 must be > 0"):
        history("p/l/s", [], WINDOW, lookback=60, interval=0)


def _shape(failed, succeeded):
    tasks, n = [], 0
    start = WINDOW.end - 300 * len(failed)
    for i, (f, s) in enumerate(zip(failed, succeeded, strict=True)):
        for status, count in (("fail", f), ("success", s)):
            for _ in range(count):
                n += 1
                tasks.append(task(n, status, start + i * 300 + 5))
    return history(
        "p/l/s", tasks, Window(WINDOW.end - 300, WINDOW.end), 300 * (len(failed) - 1), 300
    )


@pytest.mark.parametrize(
    ("failed", "succeeded", "line"),
    [
        ([0, 0, 1, 0], [8, 8, 7, 8], "failed ··▁· · succeeded ██▇█"),  # a blip
        ([0, 2, 4, 8], [8, 6, 4, 0], "failed ·▂▄█ · succeeded █▆▄·"),  # a growing outage
        ([0, 0, 0, 0], [8, 8, 0, 0], "failed ···· · succeeded ██··"),  # stopped
    ],
)
def test_bar_line_shows_blip_outage_and_stop(failed, succeeded, line):
    assert bar_line(_shape(failed, succeeded)) == line


def test_span_label_names_zone_and_interval():
    h = _shape([0, 2, 4, 8], [8, 6, 4, 0])
    assert span_label(h, timezone.utc, "UTC") == "07:45–08:05 UTC, 5m a bar"


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.coloured: list[tuple[str, int]] = []
        self.titles: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "bgcolor" in a:
            self.coloured.append((a["bgcolor"], int(a["height"])))
        if tag == "td" and "title" in a:
            self.titles.append(a["title"])


def test_html_chart_bars_are_scaled_coloured_cells_with_their_counts():
    chart = html_chart(_shape([0, 1, 4], [4, 3, 0]), timezone.utc, "UTC")
    cells = _Cells()
    cells.feed(chart)
    assert cells.titles == [
        "07:50 UTC: 0 failed, 4 succeeded",
        "07:55 UTC: 1 failed, 3 succeeded",
        "08:00 UTC: 4 failed, 0 succeeded",
    ]
    assert cells.coloured == [
        (SUCCEEDED_COLOUR, 48),
        (FAILED_COLOUR, 12),
        (SUCCEEDED_COLOUR, 36),
        (FAILED_COLOUR, 48),
    ]
    assert "<img" not in chart
    assert "p/l/s: 5 failed, 7 succeeded; 07:50–08:05 UTC, 5m a bar" in chart
    assert not re.search(r'width="\d+px|(?<!max-)width:\d{3,}px', chart)  # fits a phone


def test_html_chart_escapes_the_target_and_marks_empty_intervals():
    h = history("<b>p</b>/l/s", [], WINDOW, lookback=0, interval=300)
    chart = html_chart(h, timezone.utc, "UTC")
    assert "<b>" not in chart
    assert "&lt;b&gt;p&lt;/b&gt;/l/s" in chart
    assert 'bgcolor="#dadce0"' in chart
