"""The task ids a paged read has yielded: exact membership, in little memory for big reads.

`distinct_pages` must remember every id it yielded (a server may repeat tasks across
pages) and count them exactly. A `set` of the parsed id strings costs about 150 bytes an
id (the string object, and a table that grows fourfold), which with eight shippers of
20,000+ tasks read at once was most of the check's peak memory. Here a read keeps the set
while it is small (every check of ordinary shippers, at C speed); past `compact_from` ids
it moves to an open-addressing table of the ids' hashes (arrays of machine integers), with
each id's text kept once in a per-page string. Equal hashes are always settled by
comparing the texts, so a hash collision cannot make two tasks one: about 45 bytes an id.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate, compress, repeat
from operator import ne

# The ids a read keeps in a plain set before it moves to the compact table: an ordinary
# shipper's range (a few thousand tasks) stays in the set.
COMPACT_FROM = 4096
_EMPTY = -1  # a slot no hash fills: Python's hash() never returns -1
_FIRST_SLOTS = 1 << 13


class SeenIds:
    """Ids added page by page; `add_page` says which of a page's ids came on earlier pages.

    `hash_id` is the hash the table uses (Python's `hash`; tests pass one that collides).
    It must never return -1.
    """

    __slots__ = (
        "_count",
        "_expected",
        "_hash",
        "_hashes",
        "_mask",
        "_page_firsts",
        "_pages",
        "_set",
        "_threshold",
        "_where",
    )

    def __init__(
        self, compact_from: int | None = None, hash_id: Callable[[str], int] = hash
    ) -> None:
        self._set: set[str] | None = set()
        self._threshold = COMPACT_FROM if compact_from is None else compact_from
        self._hash = hash_id
        self._count = 0  # ids in the table
        self._expected = 0
        self._hashes = array("q")
        self._where = array("i")  # the index (in order of arrival) of each slot's id
        self._mask = -1
        self._pages: list[tuple[str, array]] = []  # ids joined, and where each one ends
        self._page_firsts: list[int] = []  # the index of each page's first id

    def __len__(self) -> int:
        return self._count if self._set is None else len(self._set)

    def add_page(self, ids: Sequence[str]) -> list[int]:
        """Remember `ids`; the positions in `ids` of those added by an earlier call.

        An id repeated within `ids` alone is not reported (a page is taken as it came);
        it is remembered once.
        """
        seen = self._set
        if seen is None:
            return self._add_compact(ids)
        repeated = [] if seen.isdisjoint(ids) else [i for i, x in enumerate(ids) if x in seen]
        seen.update(ids)
        if len(seen) > self._threshold:
            self._set = None
            self._add_compact(list(seen))
        return repeated

    def _add_compact(self, ids: Sequence[str]) -> list[int]:
        self._reserve(self._count + len(ids))
        hashes, where, mask = self._hashes, self._where, self._mask
        first = index = self._count
        new: list[str] = []
        append = new.append
        repeated: list[str] = []
        for task_id, hashed in zip(ids, map(self._hash, ids), strict=True):
            slot = hashed & mask
            stored = hashes[slot]
            while stored != _EMPTY:
                if stored == hashed:
                    at = where[slot]
                    if at >= first:
                        if new[at - first] == task_id:
                            break  # again within this page
                    elif self._id_at(at) == task_id:
                        repeated.append(task_id)
                        break
                slot = (slot + 1) & mask
                stored = hashes[slot]
            else:
                hashes[slot] = hashed
                where[slot] = index
                index += 1
                append(task_id)
        if new:
            self._page_firsts.append(first)
            self._pages.append(("".join(new), array("I", accumulate(map(len, new)))))
        self._count = index
        if not repeated:
            return []
        again = set(repeated)
        return [i for i, task_id in enumerate(ids) if task_id in again]

    def _id_at(self, index: int) -> str:
        page = bisect_right(self._page_firsts, index) - 1
        text, ends = self._pages[page]
        k = index - self._page_firsts[page]
        return text[ends[k - 1] if k else 0 : ends[k]]

    def expect(self, total: int) -> None:
        """The read holds about `total` ids (as its first page says): when the table grows
        it is sized for them at once, up to four times the ids it holds, so that a read
        of 20,000 ids is not copied table to table and a wrong total costs little."""
        self._expected = total

    def _reserve(self, count: int) -> None:
        """Room for `count` ids with the table at most half full."""
        size = len(self._hashes)
        if 2 * count <= size:
            return
        count = max(count, min(self._expected, 4 * count))
        size = max(size, _FIRST_SLOTS)
        while 2 * count > size:
            size *= 2
        old_hashes, old_where = self._hashes, self._where
        hashes = self._hashes = array("q", [_EMPTY]) * size
        where = self._where = array("i", [0]) * size
        mask = self._mask = size - 1
        filled = map(ne, old_hashes, repeat(_EMPTY))
        for hashed, at in compress(zip(old_hashes, old_where, strict=True), filled):
            slot = hashed & mask
            while hashes[slot] != _EMPTY:
                slot = (slot + 1) & mask
            hashes[slot] = hashed
            where[slot] = at
