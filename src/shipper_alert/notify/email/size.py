"""The wire size of an email that `message.compose` would make, without composing it.

`fit` measures every message it tries; composing and flattening one (quoted-printable or
base64 of up to 64 KiB, then a Python write per line) costs more than rendering it. The
size is worked out from the parts instead, exactly: a skeleton message with the same
headers and transfer encodings (composed once per subject and encodings), whose bodies
are swapped for the real ones, each measured as the email package encodes it
(email.contentmanager: quoted-printable encodes line by line, so each distinct line is
measured once; base64 and 7bit by arithmetic). Where the arithmetic does not apply (an
ASCII part with a line too long for 7bit, an empty part), the message is composed.
"""

from __future__ import annotations

from collections.abc import Mapping
from email import quoprimime
from typing import Any

from shipper_alert.notify.email.message import POLICY, compose, transfer_encoding, wire_bytes

# A skeleton's bodies: each gets the transfer encoding it is for (tests check it).
_SKELETON_BODIES = {None: "x", "quoted-printable": "x" * 20 + "é", "base64": "中文"}
_BASE64_CHUNK = POLICY.max_line_length // 4 * 3  # bytes encoded per base64 line


class WireSize:
    """`len(wire_bytes(compose(**message)))`, for the messages of one notifier's build."""

    def __init__(self) -> None:
        self._skeletons: dict[tuple, int] = {}
        self._qp_lines: dict[bytes, int] = {}

    def of(self, message: Mapping[str, Any]) -> int:
        """The size of the message that `compose(**message)` makes."""
        text, html = message["text"], message["html"]
        parts = {k: v for k, v in message.items() if k not in ("text", "html")}
        encodings = (transfer_encoding(text), transfer_encoding(html))
        bodies = (self._body(text, encodings[0]), self._body(html, encodings[1]))
        if None in bodies:
            return len(wire_bytes(compose(**message)))
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(parts.items()))
        key += (encodings,)
        if key not in self._skeletons:
            self._skeletons[key] = self._skeleton(parts, *encodings)
        return self._skeletons[key] + sum(bodies)  # type: ignore[arg-type]

    def _skeleton(self, parts: dict, text_encoding: str | None, html_encoding: str | None) -> int:
        """The message's wire size without its two bodies."""
        text, html = _SKELETON_BODIES[text_encoding], _SKELETON_BODIES[html_encoding]
        size = len(wire_bytes(compose(text=text, html=html, **parts)))
        return size - self._body(text, text_encoding) - self._body(html, html_encoding)  # type: ignore[operator]

    def _body(self, text: str, encoding: str | None) -> int | None:
        """The bytes a part's body takes on the wire (CRLF line ends), as
        email.contentmanager encodes it; None where this does not work it out."""
        lines = text.encode("utf-8").splitlines()
        if not lines:
            return None
        if encoding == "quoted-printable":
            return sum(self._qp_line(line) for line in lines)
        content = sum(map(len, lines)) + 2 * len(lines)  # each line and its CRLF
        if encoding == "base64":
            # 57 bytes a line, 76 characters and a line end each (CRLF on the wire).
            full, rest = divmod(content, _BASE64_CHUNK)
            return full * 78 + (4 * -(-rest // 3) + 2 if rest else 0)
        if max(map(len, lines)) > POLICY.max_line_length:
            return None  # the email package then picks an encoding itself
        return content  # 7bit: the lines as they are

    def _qp_line(self, line: bytes) -> int:
        """A line's quoted-printable form with its soft breaks and its line end, in bytes."""
        size = self._qp_lines.get(line)
        if size is None:
            encoded = quoprimime.body_encode(line.decode("latin-1"), POLICY.max_line_length)
            size = self._qp_lines[line] = len(encoded) + encoded.count("\n") + 2
        return size
