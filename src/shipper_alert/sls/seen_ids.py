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
from itertools import accumulate

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
        repeated: list[int] = []
        for position, (task_id, hashed) in enumerate(zip(ids, map(self._hash, ids), strict=True)):
            slot = hashed & mask
            while True:
                stored = hashes[slot]
                if stored == _EMPTY:
                    hashes[slot] = hashed
                    where[slot] = index
                    index += 1
                    new.append(task_id)
                    break
                if stored == hashed:
                    at = where[slot]
                    if at >= first:
                        if new[at - first] == task_id:
                            break  # again within this page
                    elif self._id_at(at) == task_id:
                        repeated.append(position)
                        break
                slot = (slot + 1) & mask
        if new:
            self._page_firsts.append(first)
            self._pages.append(("".join(new), array("I", accumulate(map(len, new)))))
        self._count = index
        return repeated

    def _id_at(self, index: int) -> str:
        page = bisect_right(self._page_firsts, index) - 1
        text, ends = self._pages[page]
        k = index - self._page_firsts[page]
        return text[ends[k - 1] if k else 0 : ends[k]]

    def _reserve(self, count: int) -> None:
        """Room for `count` ids with the table at most half full."""
        size = len(self._hashes)
        if 2 * count <= size:
            return
        size = max(size, _FIRST_SLOTS)
        while 2 * count > size:
            size *= 2
        old = zip(self._hashes, self._where, strict=True)
        hashes = self._hashes = array("q", [_EMPTY]) * size
        where = self._where = array("i", [0]) * size
        mask = self._mask = size - 1
        for hashed, at in old:
            if hashed != _EMPTY:
                slot = hashed & mask
                while hashes[slot] != _EMPTY:
                    slot = (slot + 1) & mask
                hashes[slot] = hashed
                where[slot] = at
