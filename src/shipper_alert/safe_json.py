"""JSON from a peer or an event, parsed within a size, a nesting depth and UTF-8.

`json.loads` recurses once per nesting level, so a 2 KB reply of 1,000 nested arrays raises
`RecursionError`; it also accepts any size and, given bytes, guesses UTF-16/32. Here the
text is checked first and every problem is one `JsonInputError` saying which.
JSON text exchanged between systems is UTF-8 (RFC 8259 §8.1,
https://www.rfc-editor.org/rfc/rfc8259#section-8.1).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Our documents (SLS pages, chat replies, events) nest four or five levels.
MAX_DEPTH = 32
MAX_BYTES = 8 * 1024 * 1024

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonInputError(ValueError):
    """The text is not JSON this program accepts; the message says why.

    `detail` is the decoder's own account of invalid JSON (where it stopped), if any.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in `text` (strings are skipped)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif lexeme in "]}":
            depth -= 1
    return deepest


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
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonInputError(f"nested {depth} levels deep, more than the {max_depth} accepted")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise JsonInputError("not valid JSON", str(exc) or type(exc).__name__) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
