"""Scenario times: durations ("1h30m"), signed offsets ("-2h") and instants (epoch seconds
or ISO-8601), and how a scenario time resolves against its reference time.
"""

from __future__ import annotations

import re

from shipper_alert import durations


def parse_duration(value: str | int) -> int:
    """`90`, `"90"`, `"90s"`, `"5m"`, `"1h30m"`, `"2d"` -> seconds (never negative)."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration must not be negative: {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    try:
        return durations.parse_duration(value)
    except ValueError:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90, 90s, 5m, 1h30m, 2d)") from None


def parse_offset(value: str | int) -> int:
    """A signed duration: `"-2h"`, `"+5m"`, `"-90"`, `"30m"` (no sign = positive)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a relative time: {value!r}")
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_duration(text.lstrip("+-"))


def parse_instant(value: str | int | float) -> int:
    """Epoch seconds (number or digits) or ISO-8601 (naive means UTC) -> epoch seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text))
    try:
        return durations.parse_iso_time(text)
    except ValueError:
        raise ValueError(
            f"not a time: {value!r} (use epoch seconds or ISO-8601 like 2026-11-28T08:05:00Z)"
        ) from None


def resolve_time(value: str | int, reference: int) -> int:
    """A scenario time: absolute (int or ISO-8601) or a signed offset from `reference`."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"epoch seconds must not be negative: {value}")
        return value
    if isinstance(value, str) and value.strip()[:1] in ("+", "-"):
        return reference + parse_offset(value)
    if isinstance(value, str):
        return parse_instant(value)
    raise ValueError(f"not a time: {value!r} (use epoch seconds or a signed offset like -2h)")
