"""The CSV of every failed task: exact rows, zone in every time, formulas kept inert."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

from tests.factories import failed

from shipper_alert.task_csv import COLUMNS, failed_tasks_csv

SHANGHAI = timezone(timedelta(hours=8))


def rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_every_task_is_a_row_with_its_cause_and_zoned_times():
    text = failed_tasks_csv(
        {
            "proj-a/nginx/oss-archive": [failed("t1"), failed("t2", "disk 42 full", None)],
            "proj-b/app/odps": [failed("t3", 'quote " and, comma\nnew line', "X")],
        },
        SHANGHAI,
    )
    assert "\r\n" in text
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
