"""The FC handler: event -> config -> fetch -> evaluate -> render -> deliver -> result.

`handler(event, context)` returns the result JSON string of the contract ("Result and
failure") and raises, so that FC records a failed invocation, when the configuration or
the event is invalid or when there was something to send and no channel delivered it.
A partial delivery returns normally with `"ok": false`, so FC's retry of a failed
asynchronous invocation cannot duplicate what was delivered.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipper_alert.budget import Deadline
from shipper_alert.config import Settings, load_settings
from shipper_alert.errors import NotDeliveredError
from shipper_alert.events import decode_event, resolve_window
from shipper_alert.logs import configure_logging
from shipper_alert.models import Window
from shipper_alert.redact import SecretScrubber
from shipper_alert.report import Report

log = logging.getLogger(__name__)

# Without an FC context (local runs) the check gets this many seconds.
LOCAL_TIMEOUT = 120.0
# Stop this long before FC's timeout, so the result is returned rather than killed.
TIMEOUT_SAFETY = 1.0
# A channel whose message building starts with less time left than this is skipped.
MIN_BUILD_SECONDS = 0.5
# Share of the time left that reading SLS may use; the rest is for delivery.
READ_SHARE = 0.6


@dataclass
class Outcome:
    """Everything one run produced; `result` is what the handler returns as JSON."""

    settings: Settings
    window: Window
    report: Report
    messages: list = field(default_factory=list)  # Outgoing
    deliveries: list = field(default_factory=list)  # DeliveryResult
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def something_went_out(self) -> bool:
        return any(d.delivered or d.partial for d in self.deliveries)

    @property
    def undelivered(self) -> bool:
        """There was something to send and nothing of it went out on any channel."""
        return (
            not self.settings.dry_run and self.report.has_findings and not self.something_went_out
        )

    def to_json(self) -> str:
        return json.dumps(self.result, ensure_ascii=False)


def function_timeout(context: Any) -> float:
    function = getattr(context, "function", None)
    timeout = getattr(function, "timeout", None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    return LOCAL_TIMEOUT


def run(
    event: Any,
    context: Any = None,
    environ: Mapping[str, str] | None = None,
    *,
    now: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    dry_run: bool | None = None,
) -> Outcome:
    """One check. Raises ConfigError / EventError before any request is sent.

    `now` and `sleep` default to the time module's, looked up at call time.
    """
    now = now or time.time
    sleep = sleep or time.sleep
    deadline = Deadline(function_timeout(context) - TIMEOUT_SAFETY)
    spec = decode_event(event)
    if dry_run is None:
        dry_run = spec.dry_run
    settings = load_settings(os.environ if environ is None else environ, context, dry_run)
    configure_logging(settings.log_level)
    started = now()
    window = resolve_window(spec, settings.rules, started)
    shippers = spec.shippers or settings.shippers
    log.info(
        "checking %d shipper spec(s) for window [%d, %d)%s",
        len(shippers),
        window.start,
        window.end,
        " (dry run)" if settings.dry_run else "",
    )

    from shipper_alert.check import (  # noqa: PLC0415 - requests loads only when checking
        apply_reminders,
        auto_retry,
        record_reminders,
        run_checks,
    )
    from shipper_alert.reminders import ReminderState  # noqa: PLC0415
    from shipper_alert.sls.client import SlsClient  # noqa: PLC0415

    state = ReminderState(settings.state_dir)
    with SlsClient(
        settings.endpoint,
        settings.credentials,
        deadline=deadline.sub(READ_SHARE),
        clock=now,
        sleep=sleep,
    ) as client:
        reports = run_checks(client, shippers, window, settings.rules, started)
        reports = apply_reminders(reports, state, window, settings.rules)
        if settings.auto_retry:
            reports = auto_retry(client, reports, settings.dry_run)

    report = Report(
        window=window,
        timezone=settings.timezone,
        timezone_name=settings.timezone_name,
        shippers=tuple(reports),
        dry_run=settings.dry_run,
        function_name=getattr(getattr(context, "function", None), "name", None),
        request_id=getattr(context, "request_id", None),
        checked_at=int(started),
    )
    outcome = Outcome(settings, window, report)
    if report.has_findings:
        _notify(outcome, deadline, sleep)
        if not settings.dry_run and outcome.something_went_out:
            record_reminders(report.shippers, state, window)
    else:
        log.info("nothing to report for window [%d, %d)", window.start, window.end)
    outcome.result = _result(outcome)
    return outcome


def _notify(outcome: Outcome, deadline: Deadline, sleep: Callable[[float], None]) -> None:
    from shipper_alert.notify.delivery import DeliveryResult, deliver_all  # noqa: PLC0415
    from shipper_alert.notify.registry import build_notifiers, preview_messages  # noqa: PLC0415
    from shipper_alert.render import Renderer  # noqa: PLC0415

    settings = outcome.settings
    renderer = Renderer(settings.template_dir, settings.timezone, deadline)
    notifiers = build_notifiers(settings.channels)
    plan = []
    try:
        for notifier in notifiers:
            if deadline.remaining() < MIN_BUILD_SECONDS:
                # Truthful and on time beats late: FC would kill and retry the invocation.
                detail = "not built: the invocation's time ran out"
                outcome.deliveries.append(DeliveryResult(notifier.name, False, 0, detail))
                continue
            # One channel that cannot build its message must not stop the others.
            try:
                plan.append((notifier, notifier.build(outcome.report, renderer)))
            except Exception as exc:
                log.exception("%s: cannot build the message", notifier.name)
                detail = SecretScrubber.scrub(
                    f"cannot build the message: {type(exc).__name__}: {exc}"
                )
                outcome.deliveries.append(DeliveryResult(notifier.name, False, 0, detail))
        outcome.messages = [m for _, messages in plan for m in messages]
        if settings.dry_run or not notifiers:
            if not notifiers:
                outcome.messages = preview_messages(outcome.report, renderer)
            for message in outcome.messages:
                log.info("dry run: would send to %s: %s", message.channel, message.title)
            return
        outcome.deliveries.extend(deliver_all(plan, deadline, sleep=sleep))
    finally:
        for notifier in notifiers:
            notifier.close()


def _result(outcome: Outcome) -> dict[str, Any]:
    # Every text in it was scrubbed where it entered; this is the last line of defence.
    return SecretScrubber.scrub_tree(_unscrubbed_result(outcome))


def _unscrubbed_result(outcome: Outcome) -> dict[str, Any]:
    report = outcome.report
    all_read = all(s.error is None for s in report.shippers)
    # On a dry run nothing is sent, but a channel that could not build its message is
    # still a failure worth seeing.
    all_delivered = all(d.delivered for d in outcome.deliveries)
    return {
        "ok": all_read and all_delivered,
        "dryRun": outcome.settings.dry_run,
        "window": outcome.window.to_json(),
        "shippers": [s.to_json() for s in report.shippers],
        "notifications": [d.to_json() for d in outcome.deliveries],
        "messages": [m.preview() for m in outcome.messages] if outcome.settings.dry_run else [],
    }


def handler(event: Any, context: Any) -> str:
    """FC entry point (`index.handler`)."""
    outcome = run(event, context)
    body = outcome.to_json()
    if outcome.undelivered:
        failed = ", ".join(f"{d.channel}: {d.error}" for d in outcome.deliveries) or "no channel"
        raise NotDeliveredError(f"findings were not delivered by any channel ({failed})", body)
    return body
