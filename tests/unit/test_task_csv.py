"""The CSV of every failed task: exact rows, zone in every time, formulas kept inert."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

import pytest
from tests.factories import failed

from shipper_alert.task_csv import COLUMNS, failed_tasks_csv

SHANGHAI = timezone(timedelta(hours=8))


def rows(table: tuple[bytes, int]) -> list[list[str]]:
    data, count = table
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert count == len(parsed) - 1
    return parsed


def test_every_task_is_a_row_with_its_cause_and_zoned_times():
    text = failed_tasks_csv(
        {
            "proj-a/nginx/oss-archive": [failed("t1"), failed("t2", "disk 42 full", None)],
            "proj-b/app/odps": [failed("t3", 'quote " and, comma\nnew line', "X")],
        },
        SHANGHAI,
    )
    assert b"\r\n" in text[0]
    table = rows(text)
    assert table[0] == list(COLUMNS)
    assert [r[:4] for r in table[1:]] == [
        ["proj-a/nginx/oss-archive", "t1", "UnAuthorized", "UnAuthorized"],
        ["proj-a/nginx/oss-archive", "t2", "disk {n} full", ""],
        ["proj-b/app/odps", "t3", "X", "X"],
    ]
    assert table[3][4] == 'quote " and, comma\nnew line'  # the message byte for byte
    assert table[1][5:] == [
        "2026-11-28T15:57:10+08:00",
        "2026-11-28T15:59:10+08:00",
        "2026-11-28T15:59:10+08:00",
    ]


def test_formula_cells_get_an_apostrophe():
    text = failed_tasks_csv(
        {"p/l/s": [failed('=HYPERLINK("http://x")', "+1 -2 @cmd", None)]}, timezone.utc
    )
    row = rows(text)[1]
    assert row[1] == '\'=HYPERLINK("http://x")'
    assert row[4] == "'+1 -2 @cmd"


def test_no_failures_is_the_header_alone():
    assert rows(failed_tasks_csv({}, timezone.utc)) == [list(COLUMNS)]


def test_a_size_cap_keeps_whole_rows_only():
    tasks = {"p/l/s": [failed(f"t{i:03d}", "x" * 50, None) for i in range(100)]}
    whole, count = failed_tasks_csv(tasks, timezone.utc)
    assert count == 100

    data, shown = failed_tasks_csv(tasks, timezone.utc, max_bytes=len(whole) // 2)

    assert 0 < shown < 100
    assert len(data) <= len(whole) // 2
    assert whole.startswith(data)  # the same rows, cut before a row, never inside one
    assert data.endswith(b"\r\n")
    assert [r[1] for r in rows((data, shown))[1:]] == [f"t{i:03d}" for i in range(shown)]


def test_a_cap_below_one_row_leaves_the_header():
    data, shown = failed_tasks_csv({"p/l/s": [failed("t1")]}, timezone.utc, max_bytes=10)
    assert shown == 0
    assert rows((data, shown)) == [list(COLUMNS)]


@pytest.mark.parametrize("cap", [300, 1_000, 2_345, 5_000])
def test_a_cap_keeps_the_most_whole_rows_that_fit_counted_in_utf8_bytes(cap):
    tasks = {
        "p/l/a": [failed(f"a{i}", f"写入失败 {i % 3}", "E" if i % 2 else None) for i in range(20)],
        "p/l/b": [failed(f"b{i}", "=1+1", None) for i in range(20)],
    }
    whole, _ = failed_tasks_csv(tasks, timezone.utc)
    ends = [i + 2 for i in range(len(whole)) if whole[i : i + 2] == b"\r\n"]
    fitting = [end for end in ends if end <= cap]
    data, shown = failed_tasks_csv(tasks, timezone.utc, max_bytes=cap)
    assert data == whole[: fitting[-1]]
    assert shown == len(fitting) - 1  # less the header row
