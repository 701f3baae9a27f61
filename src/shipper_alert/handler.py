"""The FC handler: event -> config -> fetch -> evaluate -> notify policy -> render -> deliver
-> result.

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
from typing import TYPE_CHECKING, Any

from shipper_alert import preload
from shipper_alert.budget import Deadline
from shipper_alert.config import Settings, load_settings
from shipper_alert.errors import NotDeliveredError
from shipper_alert.events import decode_event, resolve_window
from shipper_alert.logs import configure_logging
from shipper_alert.models import Window
from shipper_alert.redact import SecretScrubber

if TYPE_CHECKING:
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
# The only shipper error `exports_check.migration_hints` adds to (the export job now reading).
MIGRATED_SHIPPER = "ShipperNotExist"


@dataclass
class Outcome:
    """Everything one run produced; `result` is what the handler returns as JSON."""

    settings: Settings
    window: Window
    report: Report
    messages: list = field(default_factory=list)  # Outgoing
    deliveries: list = field(default_factory=list)  # DeliveryResult
    result: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)  # ledger mode and note

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

    # What the check needs loads here, not with the function: requests, the report, the policy.
    from shipper_alert.check import (  # noqa: PLC0415
        apply_reminders,
        auto_retry,
        record_reminders,
    )
    from shipper_alert.links import region_from_endpoint  # noqa: PLC0415
    from shipper_alert.policy_run import PolicyRun  # noqa: PLC0415
    from shipper_alert.reminders import ReminderState  # noqa: PLC0415
    from shipper_alert.report import Report  # noqa: PLC0415
    from shipper_alert.sls.client import SlsClient  # noqa: PLC0415

    state = ReminderState(settings.state_dir)
    # --- notification policy: which windows this check decides, with or without a ledger
    policy = PolicyRun.start(settings, spec.kind, window, context, now, function_timeout(context))
    # ---
    # What rendering and sending need loads while the reads below wait on the network.
    preload.start(preload.modules_for(settings.channels, settings.dry_run))
    with SlsClient(
        settings.endpoint,
        settings.credentials,
        deadline=deadline.sub(READ_SHARE),
        clock=now,
        sleep=sleep,
        pool_size=settings.workers,
    ) as client:
        reports, exports = _read(client, settings, shippers, window, started, policy.windows, sleep)
        reports = apply_reminders(reports, state, window, settings.rules)
        exports = apply_reminders(exports, state, window, settings.rules)
        if settings.auto_retry:
            reports = auto_retry(client, reports, settings.dry_run)
    reports = policy.apply(reports)  # notification policy
    exports = policy.apply_exports(exports, window)

    report = Report(
        window=window,
        timezone=settings.timezone,
        timezone_name=settings.timezone_name,
        shippers=tuple(reports),
        exports=tuple(exports),
        dry_run=settings.dry_run,
        function_name=getattr(getattr(context, "function", None), "name", None),
        request_id=getattr(context, "request_id", None),
        checked_at=int(started),
        notes=policy.notes,
        label=settings.alert_label,
        account_id=getattr(context, "account_id", None),
        region=getattr(context, "region", None) or region_from_endpoint(settings.endpoint.host),
    )
    outcome = Outcome(settings, window, report)
    if report.has_findings:
        notify(outcome, deadline, sleep)
        if not settings.dry_run and outcome.something_went_out:
            record_reminders((*report.shippers, *report.exports), state, window)
    else:
        log.info("nothing to report for window [%d, %d)", window.start, window.end)
    delivered = not report.has_findings or all(d.delivered for d in outcome.deliveries)
    policy.finish(window, delivered and not settings.dry_run, now())  # ledger after delivery
    outcome.policy = policy.to_json()
    outcome.result = _result(outcome)
    if settings.heartbeat_url and outcome.result["ok"] and not settings.dry_run:
        from shipper_alert.heartbeat import ping  # noqa: PLC0415

        outcome.result["heartbeat"] = ping(settings.heartbeat_url, deadline).to_json()
    return outcome


def _read(
    client: Any,
    settings: Settings,
    shippers: tuple,
    window: Window,
    started: float,
    history: tuple[Window, ...],
    sleep: Callable[[float], None],
) -> tuple[list, list]:
    """The shippers' reports and, beside them when EXPORTS is set, the export jobs' reports.

    The export modules load only when EXPORTS is set or a shipper is missing (its error may
    name the export job that replaced it).
    """
    from shipper_alert.check import run_checks  # noqa: PLC0415

    def check() -> list:
        return run_checks(
            client,
            shippers,
            window,
            settings.rules,
            started,
            workers=settings.workers,
            history=history,
        )

    reader = None
    if settings.exports.exports:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        from shipper_alert.exports_check import run_export_checks  # noqa: PLC0415
        from shipper_alert.sls.exports import ExportReader  # noqa: PLC0415

        reader = ExportReader(client, sleep=sleep)
        rules = settings.rules
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exports") as side:
            pending = side.submit(
                run_export_checks,
                reader,
                settings.exports,
                window,
                rules.remind_interval,
                rules.notify_resolved,
                workers=settings.workers,
            )
            reports = check()
            exports = pending.result()
    else:
        reports, exports = check(), []
    if any(r.error is not None and r.error.code == MIGRATED_SHIPPER for r in reports):
        from shipper_alert.exports_check import migration_hints  # noqa: PLC0415
        from shipper_alert.sls.exports import ExportReader  # noqa: PLC0415

        reports = migration_hints(reader or ExportReader(client, sleep=sleep), reports)
    return reports, exports


def notify(outcome: Outcome, deadline: Deadline, sleep: Callable[[float], None]) -> None:
    """Build every channel's messages for `outcome.report` and deliver them (or preview)."""
    from shipper_alert.notify.registry import build_notifiers  # noqa: PLC0415
    from shipper_alert.render import Renderer  # noqa: PLC0415

    settings = outcome.settings
    renderer = Renderer(settings.template_dir, settings.timezone, deadline)
    renderer.notes.extend(outcome.report.notes)  # every channel shows the report's notes
    notifiers = build_notifiers(settings.channels)
    plan = []
    try:
        for notifier in notifiers:
            if deadline.remaining() < MIN_BUILD_SECONDS:
                # Truthful and on time beats late: FC would kill and retry the invocation.
                detail = "not built: the invocation's time ran out"
                outcome.deliveries.append(_not_delivered(notifier.name, detail))
                continue
            # One channel that cannot build its message must not stop the others.
            try:
                plan.append((notifier, notifier.build(outcome.report, renderer)))
            except Exception as exc:
                log.exception("%s: cannot build the message", notifier.name)
                detail = SecretScrubber.scrub(
                    f"cannot build the message: {type(exc).__name__}: {exc}"
                )
                outcome.deliveries.append(_not_delivered(notifier.name, detail))
        outcome.messages = [m for _, messages in plan for m in messages]
        if settings.dry_run or not notifiers:
            if not notifiers:
                from shipper_alert.notify.preview import preview_messages  # noqa: PLC0415

                outcome.messages = preview_messages(outcome.report, renderer)
            for message in outcome.messages:
                log.info("dry run: would send to %s: %s", message.channel, message.title)
            return
        from shipper_alert.notify.delivery import deliver_all  # noqa: PLC0415 - only to send

        outcome.deliveries.extend(deliver_all(plan, deadline, sleep=sleep))
    finally:
        for notifier in notifiers:
            notifier.close()


def _not_delivered(channel: str, detail: str) -> Any:
    from shipper_alert.notify.delivery import DeliveryResult  # noqa: PLC0415

    return DeliveryResult(channel, False, 0, detail)


def _result(outcome: Outcome) -> dict[str, Any]:
    # Every text in it was scrubbed where it entered; this is the last line of defence.
    return SecretScrubber.scrub_tree(_unscrubbed_result(outcome))


def _unscrubbed_result(outcome: Outcome) -> dict[str, Any]:
    report = outcome.report
    all_read = all(s.error is None for s in (*report.shippers, *report.exports))
    # On a dry run nothing is sent, but a channel that could not build its message is
    # still a failure worth seeing.
    all_delivered = all(d.delivered for d in outcome.deliveries)
    return {
        "ok": all_read and all_delivered,
        "dryRun": outcome.settings.dry_run,
        "window": outcome.window.to_json(),
        "shippers": [s.to_json() for s in report.shippers],
        "exports": [e.to_json() for e in report.exports],
        "notifications": [d.to_json() for d in outcome.deliveries],
        "messages": [m.preview() for m in outcome.messages] if outcome.settings.dry_run else [],
        "held": sum(s.held for s in (*report.shippers, *report.exports)),
        "policy": outcome.policy,
    }


def handler(event: Any, context: Any) -> str:
    """FC entry point (`index.handler`)."""
    outcome = run(event, context)
    body = outcome.to_json()
    if outcome.undelivered:
        failed = ", ".join(f"{d.channel}: {d.error}" for d in outcome.deliveries) or "no channel"
        raise NotDeliveredError(f"findings were not delivered by any channel ({failed})", body)
    return body
