"""Invocation events -> the window to check.

Two steps, because the configuration needs the event's `dryRun` and the window needs the
configuration's CHECK_INTERVAL and SETTLE_DELAY:

1. `decode_event(raw)` parses the bytes FC passes (timer or manual event) into an
   `EventSpec`, checking shapes and types.
2. `resolve_window(spec, rules, now)` turns it into a `Window` (contract, "Events").

A timer window is `[t - SETTLE_DELAY - CHECK_INTERVAL, t - SETTLE_DELAY)` with `t` the
trigger time rounded down to a whole multiple of CHECK_INTERVAL, so a late or repeated
trigger checks the same window and consecutive ones neither overlap nor leave a gap. A
trigger time up to EARLY_TRIGGER_TOLERANCE before a boundary counts as that boundary: a
timer that fires a second early checks the window it was meant for, not the one before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shipper_alert import safe_json
from shipper_alert.config import Rules
from shipper_alert.durations import parse_iso_time
from shipper_alert.errors import EventError
from shipper_alert.models import ShipperRef, Window
from shipper_alert.validation import epoch_problem

MAX_WINDOW_AGE = 47 * 3600
# A manual event nests three levels ({"shippers": [...]}); FC caps an event at 128 KB
# for asynchronous invocations (https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/limits).
MAX_EVENT_DEPTH = 8
MAX_EVENT_BYTES = 128 * 1024
MANUAL_KEYS = ("from", "to", "dryRun", "shippers")
TIMER_KEYS = ("triggerTime", "triggerName", "payload")
# FC timers fire on schedule or late, so an early trigger time is skew of a few seconds;
# 10 s covers that while a trigger up to CHECK_INTERVAL - 10 s late keeps its own window.
# Capped at a tenth of the interval so short test intervals keep most of their span.
EARLY_TRIGGER_TOLERANCE = 10


@dataclass(frozen=True)
class EventSpec:
    kind: str  # "timer" or "manual"
    trigger_time: int | None = None
    start: int | None = None
    end: int | None = None
    dry_run: bool | None = None
    shippers: tuple[ShipperRef, ...] | None = None
    trigger_name: str | None = None


def parse_instant(value: Any, what: str) -> int:
    """Epoch seconds (number or numeric string) or ISO-8601 (naive means UTC) -> int."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EventError(f"{what} must be epoch seconds or an ISO-8601 time, not {_kind(value)}")
    if isinstance(value, (int, float)):
        return _epoch(value, value, what)
    text = value.strip()
    if _is_number(text):
        return _epoch(float(text), value, what)
    try:
        return parse_iso_time(text)
    except (ValueError, OverflowError):
        raise EventError(
            f"{what} {value!r} is neither epoch seconds nor an ISO-8601 time "
            "(e.g. 2026-11-28T08:05:00Z)"
        ) from None


def _epoch(number: float, shown: Any, what: str) -> int:
    """Whole epoch seconds, checked before any arithmetic (`1e300`, milliseconds)."""
    problem = epoch_problem(number)
    if problem:
        raise EventError(f"{what} {shown!r} {problem}")
    return math.floor(number)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _decode_json(raw: bytes | str, what: str) -> Any:
    try:
        return safe_json.loads(raw, max_depth=MAX_EVENT_DEPTH, max_bytes=MAX_EVENT_BYTES)
    except safe_json.JsonInputError as exc:
        text = raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]
        snippet = text if len(text) <= 80 else text[:77] + "..."
        raise EventError(f"{what} is not JSON ({exc.detail or exc}): {snippet!r}") from None


def _manual_fields(obj: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(obj) - set(MANUAL_KEYS))
    if unknown:
        raise EventError(
            f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"a manual event takes {', '.join(MANUAL_KEYS)}"
        )
    fields: dict[str, Any] = {}
    for key, attr in (("from", "start"), ("to", "end")):
        if obj.get(key) is not None:
            fields[attr] = parse_instant(obj[key], f"{where} {key!r}")
    if "dryRun" in obj and obj["dryRun"] is not None:
        if not isinstance(obj["dryRun"], bool):
            raise EventError(f"{where} 'dryRun' must be true or false, not {_kind(obj['dryRun'])}")
        fields["dry_run"] = obj["dryRun"]
    if "shippers" in obj and obj["shippers"] is not None:
        fields["shippers"] = _shippers(obj["shippers"], where)
    return fields


def _shippers(value: Any, where: str) -> tuple[ShipperRef, ...]:
    if not isinstance(value, list) or not value:
        raise EventError(
            f"{where} 'shippers' must be a non-empty list of \"project/logstore/shipper\""
        )
    refs: list[ShipperRef] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise EventError(f"{where} 'shippers'[{index}] must be a string, not {_kind(item)}")
        try:
            ref = ShipperRef.parse(item.strip())
        except ValueError as exc:
            raise EventError(f"{where} 'shippers'[{index}]: {exc}") from None
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)


def _payload_fields(payload: Any) -> dict[str, Any]:
    """A timer payload acts as a manual event when it holds a JSON object.

    Free text (FC's default "Trigger Message") is ignored; text that starts like a JSON
    object but does not parse is an error rather than silently ignored, since it was
    evidently meant as settings.
    """
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return _manual_fields(payload, "the timer payload")
    if not isinstance(payload, str):
        raise EventError(f"the timer 'payload' must be a string, not {_kind(payload)}")
    if not payload.strip().startswith("{"):
        return {}
    obj = _decode_json(payload, "the timer payload")
    if not isinstance(obj, dict):
        raise EventError("the timer payload is not a JSON object")
    return _manual_fields(obj, "the timer payload")


def decode_event(raw: bytes | str | dict | None) -> EventSpec:
    """Parse what FC passes to the handler; EventError names what is wrong."""
    if isinstance(raw, dict):
        obj: Any = raw
    elif raw is None:
        return EventSpec(kind="manual")
    elif not isinstance(raw, (bytes, bytearray, str)):
        raise EventError(f"the event must be JSON bytes, not {type(raw).__name__}")
    elif not raw.strip():
        return EventSpec(kind="manual")
    else:
        obj = _decode_json(bytes(raw) if isinstance(raw, bytearray) else raw, "the event")
    if not isinstance(obj, dict):
        raise EventError(f"the event must be a JSON object, not {_kind(obj)}")
    if "triggerTime" not in obj:
        return EventSpec(kind="manual", **_manual_fields(obj, "the event"))
    trigger = obj["triggerTime"]
    if not isinstance(trigger, str):
        raise EventError(f"'triggerTime' must be an ISO-8601 string, not {_kind(trigger)}")
    name = obj.get("triggerName")
    if name is not None and not isinstance(name, str):
        raise EventError(f"'triggerName' must be a string, not {_kind(name)}")
    return EventSpec(
        kind="timer",
        trigger_time=parse_instant(trigger, "'triggerTime'"),
        trigger_name=name,
        **_payload_fields(obj.get("payload")),
    )


def early_tolerance(rules: Rules) -> int:
    return min(EARLY_TRIGGER_TOLERANCE, rules.check_interval // 10)


def timer_window(trigger_time: int, rules: Rules) -> Window:
    nudged = trigger_time + early_tolerance(rules)
    aligned = nudged - nudged % rules.check_interval
    end = aligned - rules.settle_delay
    return Window(end - rules.check_interval, end)


def resolve_window(spec: EventSpec, rules: Rules, now: float) -> Window:
    """The window the event asks for, checked against `now` (epoch seconds)."""
    allowed_end = now
    if spec.kind == "timer" and spec.start is None and spec.end is None:
        assert spec.trigger_time is not None
        window = timer_window(spec.trigger_time, rules)
        # An early trigger with SETTLE_DELAY 0 ends its window a few seconds ahead.
        allowed_end = now + early_tolerance(rules)
    else:
        end = spec.end if spec.end is not None else math.floor(now) - rules.settle_delay
        start = spec.start if spec.start is not None else end - rules.check_interval
        if start >= end:
            raise EventError(f"'from' ({_iso(start)}) must be before 'to' ({_iso(end)})")
        window = Window(start, end)
    if window.end > allowed_end:
        raise EventError(
            f"the window [{_iso(window.start)}, {_iso(window.end)}) ends in the future "
            f"(now is {_iso(math.floor(now))})"
        )
    if window.start < now - MAX_WINDOW_AGE:
        raise EventError(
            f"the window [{_iso(window.start)}, {_iso(window.end)}) starts more than 47 hours "
            "ago; GetShipperStatus serves only the last 48 hours"
        )
    return window


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
