"""Titles, subjects and the push-notification line: one wording for every channel.

A title names ALERT_LABEL, the state and the target: `[prod-hz] FIRING: p/l/s`, or the first
target and "and N more". The push line (Slack `text`, DingTalk `title`, Feishu title, email
Subject) adds the essentials an on-call engineer sees on a locked phone: the counts and the
causes, cut to a length with the number of causes left out. The footer line names the
function, account, region and request id. No text here nests parentheses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shipper_alert.copysafe import one_line

FIRING = "FIRING"
STILL_FAILING = "STILL FAILING"
MONITOR_ERROR = "MONITOR ERROR"
RESOLVED = "RESOLVED"
TEST = "TEST"
# The state a message with several is titled by: new trouble first, then a monitor that
# cannot see, then trouble already announced, then good news.
STATES = (FIRING, MONITOR_ERROR, STILL_FAILING, RESOLVED)
DEFAULT_LABEL = "shipper-alert"
CAUSE_CHARS = 40  # a masked message as a cause in the push line is cut to this


def default_label(function_name: str | None, region: str | None) -> str:
    """ALERT_LABEL's default: the FC function name and region, else shipper-alert."""
    if not function_name:
        return DEFAULT_LABEL
    return f"{function_name} ({region})" if region else function_name


def headline_state(states: Sequence[str]) -> str:
    """The most urgent of the states in one message."""
    for state in STATES:
        if state in states:
            return state
    raise ValueError(f"no known state among {list(states)!r}; expected one of {STATES}")


def target_phrase(targets: Sequence[str]) -> str:
    """`p/l/s`, or the first target and "and N more"."""
    if not targets:
        raise ValueError("a title needs at least one target")
    if len(targets) == 1:
        return targets[0]
    return f"{targets[0]} and {len(targets) - 1} more"


def title(label: str, state: str, targets: Sequence[str]) -> str:
    if state not in STATES and state != TEST:
        raise ValueError(f"unknown state {state!r}; expected one of {STATES}")
    return f"[{label}] {state}: {target_phrase(targets)}"


class Counted(Protocol):
    key: str  # a cause key: taskCode, else the masked message
    count: int


@dataclass(frozen=True)
class CauseCount:
    """A cause by key and count; `causes.Cause` fits the same shape."""

    key: str
    count: int


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def essentials(
    label: str,
    state: str,
    targets: Sequence[str],
    *,
    failed: int = 0,
    stuck: int = 0,
    stalled: int = 0,
    unreadable: int = 0,
    causes: Sequence[Counted] = (),
    max_chars: int = 150,
) -> str:
    """The title, then the counts, then as many causes as fit in `max_chars`.

    The title and the counts are never cut (only a longer title than `max_chars` is, with
    "…"); each cause is cut to CAUSE_CHARS, and causes that do not fit are counted: "+2 more
    causes". The line holds API text (cause keys): the channel escapes it like any other.
    """
    head = title(label, state, targets)
    counts = [
        _plural(n, word)
        for n, word in (
            (failed, "failed task"),
            (stuck, "stuck task"),
            (stalled, "stalled shipper"),
            (unreadable, "unreadable target"),
        )
        if n
    ]
    line = head + (" — " + ", ".join(counts) if counts else "")
    labels = [f"{one_line(cause.key, CAUSE_CHARS)} ×{cause.count}" for cause in causes]
    for shown in range(len(labels), -1, -1):
        left = len(labels) - shown
        more = [f"+{left} more cause{'' if left == 1 else 's'}"] if left else []
        tail = ", ".join(labels[:shown] + more)
        candidate = f"{line} · {tail}" if tail else line
        if len(candidate) <= max_chars:
            return candidate
    if len(line) <= max_chars or len(head) < max_chars:
        return line
    return head[: max_chars - 1] + "…"


def footer(
    function_name: str | None,
    account_id: str | None,
    region: str | None,
    request_id: str | None,
) -> str:
    """`function shipper-alert · account 1234 · region cn-hangzhou · request 1-abc`."""
    parts = [
        f"{name} {value}"
        for name, value in (
            ("function", function_name),
            ("account", account_id),
            ("region", region),
            ("request", request_id),
        )
        if value
    ]
    return " · ".join(parts) if parts else "run locally"
