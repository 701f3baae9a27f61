"""distinct_pages: each task once, however a server reorders, repeats or drops pages."""

from __future__ import annotations

import random

import pytest

from shipper_alert.models import Task
from shipper_alert.sls.client import distinct_pages
from shipper_alert.sls.errors import SlsBadResponseError, SlsIncompleteReadError
from shipper_alert.sls.responses import TaskPage


def task(n: int) -> Task:
    return Task(f"t-{n}", "fail", "boom", 1000 + n, 2000 + n)


def server(tasks: list[Task], *, shuffle_seed: int | None = None, size: int = 500):
    """read(offset) over `tasks`, reshuffled before every request when a seed is given."""
    rng = random.Random(shuffle_seed)
    requests: list[int] = []

    def read(offset: int) -> TaskPage:
        requests.append(offset)
        order = list(tasks)
        if shuffle_seed is not None:
            rng.shuffle(order)
        return TaskPage(order[offset : offset + size], len(tasks), offset, "rid")

    return read, requests


def ids(pages) -> list[str]:
    return [t.id for page in pages for t in page.tasks]


def test_a_stable_server_is_read_once_in_order():
    read, requests = server([task(n) for n in range(1203)])
    assert ids(distinct_pages(read)) == [f"t-{n}" for n in range(1203)]
    assert requests == [0, 500, 1000]


def test_duplicates_across_pages_are_yielded_once():
    tasks = [task(n) for n in range(600)] + [task(n) for n in range(100)]  # total 700
    read, requests = server(tasks)
    with pytest.raises(SlsIncompleteReadError, match="read 600 distinct tasks of the 700"):
        seen = []
        for page in distinct_pages(read):
            seen.extend(t.id for t in page.tasks)
    assert len(seen) == len(set(seen)) == 600
    assert requests == [0, 500, 0, 500]


def test_a_server_reordering_between_requests_loses_nothing_or_says_so():
    tasks = [task(n) for n in range(700)]
    read, requests = server(tasks, shuffle_seed=7)
    seen: list[str] = []
    try:
        for page in distinct_pages(read):
            seen.extend(t.id for t in page.tasks)
    except SlsIncompleteReadError as exc:
        assert exc.message.startswith(f"GetShipperStatus: read {len(set(seen))} distinct tasks")
        assert len(set(seen)) < 700
    else:
        assert sorted(seen) == sorted(t.id for t in tasks)
    assert len(seen) == len(set(seen))  # never counted twice
    assert requests[:2] == [0, 500] and len(requests) == 4  # read twice


def test_a_server_ignoring_offset_is_detected_on_the_second_page():
    tasks = [task(n) for n in range(500)]

    def read(offset: int) -> TaskPage:
        return TaskPage(list(tasks), 1_000_000, offset, "rid-9")

    with pytest.raises(SlsBadResponseError) as caught:
        list(distinct_pages(read))
    assert caught.value.message == (
        "GetShipperStatus returned the same page again at offset 500: the server repeats"
        " pages (ignores offset?)"
    )
    assert caught.value.request_id == "rid-9"
