"""WireSize works out, without composing, exactly the size that compose + wire_bytes make."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from shipper_alert.notify.email import size as email_size
from shipper_alert.notify.email.message import compose, transfer_encoding, wire_bytes
from shipper_alert.notify.email.size import WireSize

DATE = datetime(2026, 11, 28, 8, 5, tzinfo=timezone.utc)
# Lines at and around the quoted-printable limits (76 characters, escapes across a soft
# break, trailing white space), CJK, control characters, and what bytes.splitlines cuts.
LINES = [
    "",
    "plain ascii",
    "x" * 75,
    "x" * 76,
    "x" * 77,
    "x" * 74 + "é",
    "x" * 73 + "=é",
    "trailing space ",
    "x" * 75 + " ",
    "x" * 76 + "\t",
    "x" * 160,
    "中文错误信息" * 30,
    "tab\there = equals",
    "nel\x85 vt\x0b ff\x0c fs\x1c",
    "· ✓ … ＿ ＜font＞",
    "cr\rin the middle",
]


def parts(text: str, html: str, **changes) -> dict:
    return {
        "subject": "[shipper-alert] FIRING: proj-a/logs/s",
        "text": text,
        "html": html,
        "sender": "Alerts <alerts@example.com>",
        "recipients": ("ops@example.com", "oncall@example.com"),
        "date": DATE,
        "identity": "1795852740|1795853040|1|1",
        **changes,
    }


def composed_size(**kwargs) -> int:
    return len(wire_bytes(compose(**kwargs)))


def texts(seed: int) -> tuple[str, str]:
    pick = random.Random(seed)
    text = "\n".join(pick.choice(LINES) for _ in range(pick.randint(1, 60)))
    html = "<p>" + "</p>\n<p>".join(pick.choice(LINES) for _ in range(pick.randint(1, 60)))
    return text, html


@pytest.mark.parametrize("seed", range(60))
def test_the_size_is_exactly_the_composed_size(seed):
    text, html = texts(seed)
    sizes = WireSize()
    assert sizes.of(parts(text, html)) == composed_size(**parts(text, html))
    # Again with the skeleton and the lines known, and with another identity.
    assert sizes.of(parts(text, html, identity="x")) == composed_size(**parts(text, html))


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("short ascii\nlines only", "<p>ascii</p>"),  # 7bit, both
        ("a" * 200, "<p>ok</p>"),  # ASCII too long for 7bit: the email package picks
        ("中文" * 5000, "<p>" + "中文" * 5000 + "</p>"),  # base64, both
        ("x" * 56 + "中", "<p>é</p>\n"),  # base64 around a line of 57 bytes
        ("", "<p>é</p>"),  # an empty part
        ("ends with a line break\n", "<p>é</p>\r\n"),
    ],
)
def test_every_encoding_and_the_composed_fallback(text, html):
    assert WireSize().of(parts(text, html)) == composed_size(**parts(text, html))


def test_each_skeleton_body_gets_the_encoding_it_is_for():
    for encoding, body in email_size._SKELETON_BODIES.items():
        assert transfer_encoding(body) == encoding


def test_the_lines_are_encoded_once_however_often_they_are_measured():
    text, html = texts(1)
    sizes = WireSize()
    sizes.of(parts(text, html))
    known = dict(sizes._qp_lines)
    sizes.of(parts(text + "\n" + text, html))
    assert sizes._qp_lines == known
