"""Paging GetShipperStatus: each task once, however the server pages, in offset order.

`distinct_pages` turns `read(offset)` (one page, from `SlsClient`) into the pages of a range
with every task yielded once, reading a shipper's later pages ahead in parallel when it may.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future

from shipper_alert.sls.errors import (
    CODE_INCOMPLETE,
    SlsBadResponseError,
    SlsIncompleteReadError,
)
from shipper_alert.sls.responses import API_GET_SHIPPER_STATUS, TaskPage
from shipper_alert.sls.seen_ids import SeenIds

logger = logging.getLogger("shipper_alert.sls")

PAGE_SIZE = 500  # the server's maximum for GetShipperStatus, ListShipper, ListLogStores
# A range holding more tasks than this is treated as a broken response rather than paged:
# even 512 shards shipping every 5 minutes make about 300,000 tasks in the 48 hours the
# API serves.
MAX_TOTAL = 1_000_000
# Paging stops with an error after this many pages, even if the server keeps sending
# tasks (a server that ignores `offset`, or shrinks pages to 100 tasks at most).
MAX_PAGES = MAX_TOTAL // 100
# A paged read whose distinct tasks fall short of `total` is read this many times at most.
READ_PASSES = 2
# Pages of one shipper read ahead in parallel once its first page gives `total`: enough to
# keep the client's connections busy with one big shipper, few enough that the pages waiting
# to be evaluated stay a few MB. Only while fewer shippers are being read than there are
# request slots: else each reader keeps a slot busy itself.
PAGES_AHEAD = 4


def distinct_pages(
    read: Callable[[int], TaskPage],
    read_ahead: Callable[[int], Future[TaskPage] | None] | None = None,
) -> Iterator[TaskPage]:
    """Pages from `read(offset)`, each task yielded once, however the server pages.

    A server may reorder tasks between requests (tasks are lost across page borders), or
    ignore `offset` (the same page again and again). So ids are de-duplicated; a page whose
    ids repeat an earlier page's is an error; and if fewer distinct tasks than `total` came,
    the range is read once more, after which a shortfall is `SlsIncompleteReadError`.
    With `read_ahead` (`read` on other threads), once a page gives `total` the next
    `PAGES_AHEAD` full pages are requested in parallel (`read_ahead` may decline with None:
    such a page is read in place when it is due); pages are still checked and yielded
    in offset order, and a short page (the next offset is not where a full one would end)
    drops what was read ahead and goes on from where that page ended.
    """
    seen = SeenIds()
    total = 0
    for attempt in range(READ_PASSES):
        pages_seen: set[int] = set()
        offset = 0
        ahead: dict[int, Future[TaskPage]] = {}
        try:
            page = read(offset)
            for _ in range(MAX_PAGES):
                if page.total != total:
                    seen.expect(page.total)
                total = page.total
                columns = page.columns
                ids = columns.ids
                fingerprint = hash(tuple(ids))
                if ids and attempt == 0 and fingerprint in pages_seen:
                    raise SlsBadResponseError(
                        f"{API_GET_SHIPPER_STATUS} returned the same page again at offset"
                        f" {offset}: the server repeats pages (ignores offset?)",
                        request_id=page.request_id,
                        api=API_GET_SHIPPER_STATUS,
                    )
                pages_seen.add(fingerprint)
                fresh = page.records
                repeated = seen.add_page(ids)
                if repeated:
                    drop = set(repeated)
                    fresh = [record for i, record in enumerate(fresh) if i not in drop]
                    columns = None
                yield TaskPage(
                    total=page.total,
                    offset=page.offset,
                    request_id=page.request_id,
                    records=fresh,
                    columns=columns,
                )
                offset += len(ids)
                if not ids or offset >= page.total:
                    break
                if read_ahead is not None:
                    _plan_ahead(ahead, read_ahead, offset, page.total)
                pending = ahead.pop(offset, None)
                page = read(offset) if pending is None else pending.result()
            else:
                raise too_many_pages(API_GET_SHIPPER_STATUS)
        finally:
            for pending in ahead.values():
                pending.cancel()
        if len(seen) >= total:
            return
        logger.debug(
            "%s: %d distinct tasks of %d after pass %d; reading again",
            API_GET_SHIPPER_STATUS,
            len(seen),
            total,
            attempt + 1,
        )
    raise SlsIncompleteReadError(
        f"{API_GET_SHIPPER_STATUS}: read {len(seen)} distinct tasks of the {total} the server"
        f" counts, in {READ_PASSES} passes; the read is incomplete",
        api=API_GET_SHIPPER_STATUS,
        code=CODE_INCOMPLETE,
    )


def _plan_ahead(
    ahead: dict[int, Future[TaskPage]],
    read_ahead: Callable[[int], Future[TaskPage] | None],
    offset: int,
    total: int,
) -> None:
    """Keep the `PAGES_AHEAD` full pages from `offset` (below `total`) requested."""
    for stale in [at for at in ahead if at < offset or (at - offset) % PAGE_SIZE]:
        ahead.pop(stale).cancel()
    wanted = range(offset, min(total, offset + PAGES_AHEAD * PAGE_SIZE), PAGE_SIZE)
    for at in wanted:
        if at not in ahead:
            pending = read_ahead(at)
            if pending is None:  # not now: planned again after the next page
                return
            ahead[at] = pending


def too_many_pages(api: str) -> SlsBadResponseError:
    return SlsBadResponseError(
        f"{api} kept returning items after {MAX_PAGES} pages; stopped paging", api=api
    )
