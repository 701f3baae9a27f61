"""SeenIds: exact membership whatever the hashes do, and little memory for big reads."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from shipper_alert.sls.seen_ids import COMPACT_FROM, SeenIds


def reference_run(pages: list[list[str]], seen: SeenIds) -> None:
    """Feed `pages` to `seen` and check every answer against a plain set."""
    expected: set[str] = set()
    for page in pages:
        repeated = seen.add_page(page)
        assert repeated == [i for i, x in enumerate(page) if x in expected]
        expected.update(page)
        assert len(seen) == len(expected)


def random_pages(seed: int, *, pages: int = 40, size: int = 50, pool: int = 1500):
    rng = random.Random(seed)
    # Fresh strings of several lengths, some repeated within a page and across pages.
    return [
        [f"task-{rng.randrange(pool)}" + "x" * rng.randrange(3) for _ in range(size)]
        for _ in range(pages)
    ]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("compact_from", [0, 300, 10**9])
@pytest.mark.parametrize("expected", [0, 700, 10**6])
def test_answers_as_a_set_would(seed: int, compact_from: int, expected: int):
    seen = SeenIds(compact_from)
    seen.expect(expected)  # the total a first page gives, right or wrong
    reference_run(random_pages(seed), seen)


@pytest.mark.parametrize(
    "colliding",
    [lambda s: 0, len, lambda s: -2, lambda s: hash(s) & 0xF],
    ids=["all-equal", "length", "minus-two", "four-bits"],
)
def test_equal_hashes_never_make_two_ids_one(colliding):
    """Were membership decided by the hash alone, these would drop distinct tasks."""
    pages = random_pages(7, pages=12, size=40, pool=400)
    seen = SeenIds(0, hash_id=colliding)
    reference_run(pages, seen)
    assert len(seen) == len({x for page in pages for x in page})


def test_an_id_repeated_within_one_page_is_not_reported_and_counted_once():
    for seen in (SeenIds(), SeenIds(0)):
        assert seen.add_page(["a", "b", "a"]) == []
        assert len(seen) == 2
        assert seen.add_page(["c", "a", "c", "b"]) == [1, 3]
        assert len(seen) == 3


def test_ids_of_any_text_are_kept_exactly():
    odd = ["", "\x00", "a\x00b", "é", "😀", "a" * 70000, "a" * 69999]
    seen = SeenIds(0)
    assert seen.add_page(odd[:4]) == []
    assert seen.add_page(list(reversed(odd))) == [3, 4, 5, 6]
    assert seen.add_page(["a\x00", "\x00b", "a" * 70001]) == []
    assert len(seen) == len(odd) + 3


def kept_bytes(count: int, expected: int) -> tuple[SeenIds, int]:
    """A SeenIds told to expect `expected` ids, given `count`; the bytes it keeps."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        seen = SeenIds()
        seen.expect(expected)
        for first in range(0, count, 500):
            seen.add_page([f"t-{n}" for n in range(first, first + 500)])  # freed after
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return seen, kept


@pytest.mark.parametrize("expected", [0, 50_000])
def test_a_big_read_keeps_well_under_a_set_of_its_ids(expected: int):
    count = 50_000
    seen, kept = kept_bytes(count, expected)
    assert len(seen) == count
    assert seen._set is None  # past COMPACT_FROM
    # A set of the id strings keeps 100 to 150 bytes an id.
    assert kept / count < 60, f"{kept / count:.0f} bytes an id"
    assert count > COMPACT_FROM


def test_a_total_far_above_the_ids_read_does_not_size_the_table_for_it():
    seen, kept = kept_bytes(10_000, 1_000_000)  # 24 MB for a table of a million
    assert len(seen) == 10_000
    assert kept < 2_000_000, kept
