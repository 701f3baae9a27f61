"""JSON from a peer or an event, parsed within a size, a nesting depth and UTF-8.

`json.loads` recurses once per nesting level, so a 2 KB reply of 1,000 nested arrays raises
`RecursionError`; it also accepts any size and, given bytes, guesses UTF-16/32. Here size
and encoding are checked first, depth on the parsed value, and every problem is one
`JsonInputError` saying which.
JSON text exchanged between systems is UTF-8 (RFC 8259 §8.1,
https://www.rfc-editor.org/rfc/rfc8259#section-8.1).

Where orjson is installed (the FC package has it for python3.10) it parses first: about a
third of a large check's CPU went to `json.loads` on SLS pages. Whatever orjson refuses
(lone surrogates, 1e400, nesting past 1,024 levels, NaN) `json.loads` parses again and
decides, so a document is accepted, and an error worded, as without it. One difference:
orjson reads an integer beyond 64 bits as the nearest float (json as an int); no document
read here holds one, and validation treats it as any float.
"""

from __future__ import annotations

import json
from typing import Any

try:  # https://github.com/ijl/orjson
    import orjson as _orjson
except ImportError:  # a run from source without it, or an interpreter its build does not fit
    _orjson = None

# Our documents (SLS pages, chat replies, events) nest four or five levels.
MAX_DEPTH = 32
MAX_BYTES = 8 * 1024 * 1024
_CONTAINERS = (dict, list)


class JsonInputError(ValueError):
    """The text is not JSON this program accepts; the message says why.

    `detail` is the decoder's own account of invalid JSON (where it stopped), if any.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def nesting_depth(value: Any, containers: int | None = None) -> int:
    """How deeply arrays and objects nest in a parsed `value` (a scalar is 0).

    Level by level, without recursion; `type() is` because json.loads makes exact
    dicts and lists, and it is the cheaper test on pages of thousands of values.
    `containers`, if given, is at least the number of arrays and objects in `value` (the
    `[` and `{` of its text): once that many are found, no level below holds any, so the
    values of the deepest level (500 tasks' fields, on an SLS page) need not be looked at.
    """
    depth = 0
    found = 0
    level = [value] if type(value) in _CONTAINERS else []
    while level:
        depth += 1
        found += len(level)
        if containers is not None and found >= containers:
            return depth
        below = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) in _CONTAINERS:
                    below.append(child)
        level = below
    return depth


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse `data` or raise `JsonInputError` (too large, not UTF-8, too deep, invalid)."""
    if len(data) > max_bytes:
        raise JsonInputError(f"{len(data)} bytes, more than the {max_bytes} accepted")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    # The C decoder guards its recursion (RecursionError near 1,000 levels), so the depth
    # is measured on the parsed value: about 5x cheaper than scanning the text first.
    try:
        value = _parsed(text)
    except RecursionError:
        raise JsonInputError(f"nested more than {max_depth} levels deep") from None
    except ValueError as exc:
        raise JsonInputError("not valid JSON", str(exc) or type(exc).__name__) from None
    # One message whichever check fires (how deep C recursion goes differs by version).
    if nesting_depth(value, text.count("{") + text.count("[")) > max_depth:
        raise JsonInputError(f"nested more than {max_depth} levels deep")
    return value


def _parsed(text: str) -> Any:
    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass  # json.loads decides, and words the error
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
