"""Times as operators write them: durations (`90`, `90s`, `5m`, `1h30m`, `2d`; a bare number
is seconds) and ISO-8601 instants (a time without a zone means UTC)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> int:
    """Whole seconds in `text`; ValueError naming the accepted forms otherwise."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise ValueError(f"{text!r} is not a duration (use 90, 90s, 5m, 1h30m or 2d)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """The shortest form `parse_duration` reads back: 5400 -> `1h30m`, 0 -> `0s`."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    parts = []
    for unit, size in _UNITS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def parse_iso_time(text: str) -> int:
    """Epoch seconds of an ISO-8601 time; ValueError if it is not one.

    A trailing `Z` and fractions of any length are accepted (datetime.fromisoformat on
    Python 3.10, FC's runtime, takes neither: only 3 or 6 digits), and a time without a
    zone is taken as UTC.
    """
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return math.floor(moment.timestamp())
