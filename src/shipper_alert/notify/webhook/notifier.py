"""Generic webhook: the run's findings as one JSON document POSTed to WEBHOOK_URL, for
machines (SIEMs, runbooks, ticketing); documented in docs/webhook.md and
docs/webhook.schema.json. Convention, deduplication and size: docs/vendors.md,
"Generic webhook".
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any

import requests

from shipper_alert import __version__
from shipper_alert.headings import CauseLine
from shipper_alert.links import ConsoleLink
from shipper_alert.notify.base import Outgoing, fit, within
from shipper_alert.notify.http import HttpNotifier, encode_json
from shipper_alert.notify.webhook.settings import WebhookSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView, ShipperView

log = logging.getLogger(__name__)

SERVICE = "webhook"
SCHEMA_VERSION = "1"
SOURCE = "shipper-alert"
MAX_BODY_BYTES = 1_000_000
FINGERPRINT_DIGITS = 16


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent and as measured against the size limit."""
    return encode_json(payload)


def readable(document: Any) -> str:
    """The document as a person reads it (a dry run's preview): indented JSON."""
    return json.dumps(document, ensure_ascii=False, indent=2)


def fingerprint(*identity: str) -> str:
    """A stable 16-hex-digit digest of a finding's identity."""
    joined = "\x1f".join(identity).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:FINGERPRINT_DIGITS]


@lru_cache(maxsize=8192)  # three times a task, again at every fit probe
def iso(epoch: int | None) -> str | None:
    """RFC 3339 UTC (`2026-11-28T07:59:00Z`), or None for an unknown time."""
    if epoch is None or epoch <= 0:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def group_key(report: Report) -> str:
    """The same for every notification of one deployment (the FC function's name)."""
    return f"{SOURCE}/{report.function_name or 'local'}"


def notification_key(report: Report) -> str:
    """The same for every delivery of the same check: same group, same window."""
    window = report.window
    return fingerprint("notification", group_key(report), str(window.start), str(window.end))


def error_body(report: Any, who: tuple[str, ...]) -> dict[str, Any]:
    """The `error` object of an alert whose report has an error (shipper or export job)."""
    error = report.error
    return {
        "code": error.code,
        "message": error.message,
        "requestId": error.request_id,
        "status": error.status,
        "partial": report.partial,
        "noticeDue": report.error_notice_due,
        "fingerprint": fingerprint("error", *who, error.code),
    }


def timeline_body(timeline: Any) -> dict[str, Any] | None:
    """Failed and succeeded tasks per interval over the lookback, oldest first."""
    if timeline is None:
        return None
    return {
        "from": timeline.start,
        "to": timeline.end,
        "interval": timeline.interval,
        "failed": [bucket.failed for bucket in timeline.buckets],
        "succeeded": [bucket.succeeded for bucket in timeline.buckets],
    }


def alert(view: ShipperView, link: ConsoleLink) -> dict[str, Any]:
    """One shipper's findings, as much of them as `view` shows."""
    report = view.report
    if getattr(report, "kind", None) == "export":
        from shipper_alert.notify.webhook.exports import export_alert  # noqa: PLC0415

        return export_alert(view, link)
    ref = report.ref
    who = (ref.project, ref.logstore, ref.shipper)
    failed = [task for group in view.groups for task in group.tasks]
    shown_ids = {task.id for task in failed}
    body: dict[str, Any] = {
        "status": "firing" if report.firing else "resolved",
        "fingerprint": fingerprint("shipper", *who),
        "project": ref.project,
        "logstore": ref.logstore,
        "shipper": ref.shipper,
        "consoleUrl": link.url,
        "consoleFallbackUrl": link.fallback,
        "counts": {
            "failed": report.failed,
            "succeeded": report.succeeded,
            "running": report.running,
            "failureRatio": report.ratio,
        },
        "breached": report.breached,
        "resolved": report.resolved,
        "stalled": report.stall is not None,
        "failedTasks": [
            {
                "id": task.id,
                "message": task.message,
                "code": task.code,
                "createTime": task.create_time,
                "createTimeIso": iso(task.create_time),
                "finishTime": task.finish_time,
                "finishTimeIso": iso(task.finish_time),
                "alertTime": task.alert_time,
                "alertTimeIso": iso(task.alert_time),
                "fingerprint": fingerprint("failed", *who, task.id),
            }
            for task in failed
        ],
        "failedTasksOmitted": len(report.failed_tasks) - len(failed),
        "failedTaskGroups": [
            {"message": g.message, "code": g.code, "count": g.count, "shown": len(g.tasks)}
            for g in view.groups
        ],
        "failedTaskGroupsOmitted": view.hidden_groups,
        "stuckTasks": [
            {
                "id": task.id,
                "createTime": task.create_time,
                "createTimeIso": iso(task.create_time),
                "dueTime": task.due_time,
                "dueTimeIso": iso(task.due_time),
                "fingerprint": fingerprint("stuck", *who, task.id),
            }
            for task in view.stuck
        ],
        "stuckTasksOmitted": view.hidden_stuck,
        "stall": None,
        "error": None,
        "autoRetry": None,
        "timeline": timeline_body(report.timeline),
    }
    if report.stall is not None:
        stall = report.stall
        body["stall"] = {
            "newestCreateTime": stall.newest_create_time,
            "newestCreateTimeIso": iso(stall.newest_create_time),
            "dueTime": stall.due_time,
            "dueTimeIso": iso(stall.due_time),
            "reminder": stall.reminder,
            "fingerprint": fingerprint("stalled", *who, str(stall.newest_create_time)),
        }
    if report.error is not None:
        body["error"] = error_body(report, who)
    if report.retry is not None:
        retry = report.retry
        ids = [task_id for task_id in retry.task_ids if task_id in shown_ids]
        body["autoRetry"] = {
            "requested": retry.requested,
            "ok": retry.ok,
            "error": retry.error,
            "taskCount": len(retry.task_ids),
            "taskIds": ids,
            "taskIdsOmitted": len(retry.task_ids) - len(ids),
        }
    return body


def cause(line: CauseLine) -> dict[str, Any]:
    """One cause of headings.causes_of, as the `causes` of the document."""
    return {
        "key": line.key,
        "count": line.count,
        "targets": [{"target": target, "count": count} for target, count in line.targets],
        "hint": line.hint.text if line.hint else None,
        "hintUrl": line.hint.url if line.hint else None,
        "exampleTaskIds": list(line.example_ids),
    }


def payload(view: MessageView, title: str, notes: list[str]) -> dict[str, Any]:
    """The document of docs/webhook.md for one message."""
    report = view.report
    totals = view.totals
    window = report.window
    return {
        "version": SCHEMA_VERSION,
        "source": SOURCE,
        "sourceVersion": __version__,
        "groupKey": group_key(report),
        "notificationKey": notification_key(report),
        "status": "resolved" if report.only_resolved else "firing",
        "title": title,
        "dryRun": report.dry_run,
        "window": {
            "from": window.start,
            "to": window.end,
            "fromIso": iso(window.start),
            "toIso": iso(window.end),
            "timezone": report.timezone_name,
        },
        "checkedAt": report.checked_at or None,
        "checkedAtIso": iso(report.checked_at),
        "functionName": report.function_name,
        "requestId": report.request_id,
        "part": view.part,
        "parts": view.parts,
        "totals": {
            "shippers": totals.shippers,
            "breached": totals.breached,
            "failed": totals.failed,
            "stuck": totals.stuck,
            "stalled": totals.stalled,
            "errors": totals.errors,
            "resolved": totals.resolved,
            "exports": totals.exports,
        },
        "truncatedAlerts": len(report.findings) - len(view.shippers),
        "truncatedTasks": view.hidden_items,
        "alerts": [alert(shipper, view.console_link(shipper)) for shipper in view.shippers],
        "causes": [cause(c) for c in view.causes.shown],
        "notes": notes,
    }


class WebhookNotifier(HttpNotifier):
    name = SERVICE

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        session: requests.Session | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        super().__init__(settings, session=session)
        self.max_body_bytes = max_body_bytes

    def url(self) -> Secret:
        return self._settings.url

    def fits(self, outgoing: Outgoing) -> bool:
        return self._body_bytes(outgoing) <= self.max_body_bytes

    @staticmethod
    def _body_bytes(outgoing: Outgoing) -> int:
        return len(encode_body(outgoing.payload))

    # -- build (pure) ---------------------------------------------------------------------
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        def render(view: MessageView) -> Outgoing:
            title = renderer.render("text.subject.j2", view=view)
            notes = list(dict.fromkeys([*report.notes, *renderer.notes]))
            return Outgoing(SERVICE, title, "", payload(view, title, notes))

        # The readable text (indented JSON: the slow encoder) only of the messages chosen,
        # and only when read (a preview): sending never reads it.
        return [
            replace(m, text=partial(readable, m.payload))
            for m in fit(report, render, *within(self._body_bytes, self.max_body_bytes))
        ]

    # -- send (one attempt) ----------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        document = outgoing.payload
        key = f"{document['notificationKey']}-{document['part']}"
        self.post_json(encode_body(document), timeout, {"Idempotency-Key": key})
