"""Reply bodies read under a size cap, inflated (gzip, deflate) only up to it.

Bodies are streamed raw and counted after decoding; `Accept-Encoding: identity` is asked
for, and a peer that compresses anyway is inflated by `zlib` only up to the cap (RFC 9110
§8.4.1 codings gzip and deflate; anything else is `ReplyUndecodable`). Standard library only.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

# Reply caps per kind of peer. GetShipperStatus pages hold at most 500 tasks, each with an
# error message of a few hundred bytes: a few MB at most.
SLS_REPLY_BYTES = 8 * 1024 * 1024
# Chat services answer a post with a short JSON status ({"errcode":0,"errmsg":"ok"}).
CHAT_REPLY_BYTES = 64 * 1024
CHUNK_BYTES = 16 * 1024


class ReplyTooLarge(Exception):
    """The reply body (after any inflation) is larger than the cap for that peer."""


class ReplyUndecodable(Exception):
    """The reply uses a content coding this client does not inflate, or a corrupt one."""


def _inflater(coding: str) -> Any:
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return "deflate"  # zlib-wrapped or raw: decided on the first byte
    raise ReplyUndecodable(f"unsupported Content-Encoding {coding[:40]!r}")


def read_body(coding: str, declared: str, chunks: Iterable[bytes], max_bytes: int) -> bytes:
    """The body `chunks` carry (raw, as sent with Content-Encoding `coding` and
    Content-Length `declared`, either may be ""), decoded, or `ReplyTooLarge` past
    `max_bytes`."""
    coding = coding.strip().lower()
    inflater = _inflater(coding)
    if inflater is None and declared.isdigit() and int(declared) > max_bytes:
        raise ReplyTooLarge(f"reply of {declared} bytes, more than the {max_bytes} accepted")
    parts: list[bytes] = []
    size = 0
    try:
        for raw in chunks:
            if inflater == "deflate":
                wbits = zlib.MAX_WBITS if raw[:1] == b"\x78" else -zlib.MAX_WBITS
                inflater = zlib.decompressobj(wbits)
            pending = raw
            while pending:
                if inflater is None:
                    data, pending = pending, b""
                else:
                    # Never more than one byte past the cap, whatever the ratio.
                    data = inflater.decompress(pending, max_bytes - size + 1)
                    pending = inflater.unconsumed_tail
                size += len(data)
                if size > max_bytes:
                    raise ReplyTooLarge(f"reply larger than the {max_bytes} bytes accepted")
                parts.append(data)
    except zlib.error as exc:
        raise ReplyUndecodable(f"corrupt {coding} body: {exc}") from None
    return b"".join(parts)
