"""HistoryRecorder: the windows a timer check replays, the same from Tasks or from pages."""

from __future__ import annotations

import random

import pytest

from shipper_alert.config import Rules
from shipper_alert.models import Columns, Task, Window
from shipper_alert.window_views import HistoryRecorder, windows_between

LAST = Window(100_000, 100_300)


@pytest.mark.parametrize("seed", range(4))
def test_pages_give_every_window_what_the_tasks_give(seed: int):
    """Each page is sorted once for all the windows (PageIndex); every window's verdict,
    and the failed and stuck tasks kept, must be what the tasks one by one give."""
    rng = random.Random(seed)
    rules = Rules(fail_grace=rng.choice([0, 600]), running_timeout=rng.choice([None, 900]))
    windows = windows_between(LAST.end - 12 * LAST.length, LAST)
    tasks = []
    for n in range(600):
        status = rng.choice(["success", "fail", "running"])
        created = rng.randrange(windows[0].start - 3000, LAST.end + 120)
        finish = 0 if status == "running" else created + rng.randrange(0, 1200)
        tasks.append(
            Task(f"t-{n}", status, f"m{n % 3}", created, finish, code=rng.choice([None, "X"]))
        )
    tasks += rng.sample(tasks, 30)
    by_tasks = HistoryRecorder(windows, rules)
    by_tasks.add(tasks)
    by_pages, with_columns = HistoryRecorder(windows, rules), HistoryRecorder(windows, rules)
    records = [t.to_record() for t in tasks]
    for first in range(0, len(records), 97):
        page = records[first : first + 97]
        by_pages.add_records(page)
        with_columns.add_records(page, Columns.of(page))
    expected = by_tasks.result()
    assert by_pages.result() == expected
    assert with_columns.result() == expected
    assert expected.failed_now
    assert any(v.verdict.counts.succeeded for v in expected.windows)
