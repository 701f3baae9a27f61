"""distinct_pages: each task once, however a server reorders, repeats or drops pages.

Every test runs twice: with the ids in a plain set, and in SeenIds' compact table.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from shipper_alert.models import Task
from shipper_alert.sls import seen_ids
from shipper_alert.sls.errors import SlsBadResponseError, SlsIncompleteReadError
from shipper_alert.sls.paging import distinct_pages
from shipper_alert.sls.responses import TaskPage


@pytest.fixture(autouse=True, params=["set", "compact"])
def seen_mode(request, monkeypatch) -> str:
    if request.param == "compact":
        monkeypatch.setattr(seen_ids, "COMPACT_FROM", 0)
    return request.param


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


def collect(read, read_ahead=None) -> tuple[list[str], SlsIncompleteReadError | None]:
    seen: list[str] = []
    try:
        for page in distinct_pages(read, read_ahead):
            seen.extend(t.id for t in page.tasks)
    except SlsIncompleteReadError as exc:
        return seen, exc
    return seen, None


def test_a_page_with_repeats_dropped_has_the_columns_of_what_it_holds():
    tasks = [task(n) for n in range(600)] + [task(n) for n in range(100, 550)]
    read, _ = server(tasks)
    pages = []
    with pytest.raises(SlsIncompleteReadError):
        pages.extend(distinct_pages(read))  # 600 distinct of 1,050
    assert [len(page) for page in pages] == [500, 100, 0, 0, 0, 0]  # repeats dropped
    for page in pages:
        assert page.columns.ids == [record["id"] for record in page.records]
        assert page.columns.create_times == [record["taskCreateTime"] for record in page.records]


def test_duplicates_across_pages_are_yielded_once_and_the_shortfall_reported():
    tasks = [task(n) for n in range(600)] + [task(n) for n in range(100)]  # total 700
    read, requests = server(tasks)
    seen, error = collect(read)
    assert seen == [f"t-{n}" for n in range(600)]
    assert requests == [0, 500, 0, 500]
    assert error is not None
    assert error.message == (
        "GetShipperStatus: read 600 distinct tasks of the 700 the server counts, in 2 passes;"
        " the read is incomplete"
    )


@pytest.mark.parametrize("seed", range(5))
def test_a_server_reordering_between_requests_is_read_again(seed: int):
    tasks = [task(n) for n in range(700)]
    read, requests = server(tasks, shuffle_seed=seed)
    seen, error = collect(read)
    assert len(seen) == len(set(seen))  # never counted twice
    assert requests == [0, 500, 0, 500]  # short after one pass: read again
    if error is None:
        assert sorted(seen) == sorted(t.id for t in tasks)
    else:
        assert error.message.startswith(f"GetShipperStatus: read {len(seen)} distinct tasks")


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


@pytest.fixture
def ahead():
    """read_ahead for distinct_pages: `read` on a small pool, as SlsClient does it."""
    pool = ThreadPoolExecutor(4)
    yield lambda read: lambda offset: pool.submit(read, offset)
    pool.shutdown(wait=True)


def test_pages_read_ahead_are_yielded_in_offset_order_each_read_once(ahead):
    read, requests = server([task(n) for n in range(3203)])
    assert ids(distinct_pages(read, ahead(read))) == [f"t-{n}" for n in range(3203)]
    assert sorted(requests) == [0, 500, 1000, 1500, 2000, 2500, 3000]


def test_pages_whose_read_ahead_is_declined_are_read_in_place(ahead):
    read, requests = server([task(n) for n in range(3203)])
    answers = iter([None, None] + [True, None] * 20)
    submit = ahead(read)

    def sometimes(offset: int):
        return None if next(answers) is None else submit(offset)

    assert ids(distinct_pages(read, sometimes)) == [f"t-{n}" for n in range(3203)]
    assert sorted(requests) == [0, 500, 1000, 1500, 2000, 2500, 3000]  # each page once


def test_short_pages_drop_what_was_read_ahead_and_lose_no_task(ahead):
    read, requests = server([task(n) for n in range(1203)], size=100)  # pages of 100 only
    assert ids(distinct_pages(read, ahead(read))) == [f"t-{n}" for n in range(1203)]
    assert set(range(0, 1203, 100)) <= set(requests)


def test_read_ahead_keeps_the_shortfall_and_repeated_page_errors(ahead):
    tasks = [task(n) for n in range(600)] + [task(n) for n in range(100)]  # total 700
    read, _ = server(tasks)
    with pytest.raises(SlsIncompleteReadError, match="read 600 distinct tasks of the 700"):
        list(distinct_pages(read, ahead(read)))
    same = [task(n) for n in range(500)]

    def ignoring(offset: int) -> TaskPage:
        return TaskPage(list(same), 1_000_000, offset, "rid-9")

    with pytest.raises(SlsBadResponseError, match="same page again at offset 500"):
        list(distinct_pages(ignoring, ahead(ignoring)))


@pytest.mark.parametrize("seed", range(3))
def test_a_big_reordering_server_yields_each_task_once(seed: int, ahead):
    tasks = [task(n) for n in range(seen_ids.COMPACT_FROM + 1500)]
    read, _ = server(tasks, shuffle_seed=seed)
    seen, error = collect(read, ahead(read))
    assert len(seen) == len(set(seen)) > len(tasks) // 2  # never counted twice
    if error is None:
        assert sorted(seen) == sorted(t.id for t in tasks)
    else:
        assert error.message.startswith(f"GetShipperStatus: read {len(seen)} distinct tasks")
