"""One export job's entry in the generic webhook's `alerts` (docs/webhook.md, "export job").

Kept beside webhook.py so that the shipper entry stays as it is; webhook.py hands an
export job's view here.
"""

from __future__ import annotations

from typing import Any

from shipper_alert.links import ConsoleLink
from shipper_alert.notify.webhook.notifier import error_body, fingerprint, iso


def export_alert(view: Any, link: ConsoleLink) -> dict[str, Any]:
    """The alert object of an export job's `ShipperView`-shaped view."""
    report = view.report
    ref, job, verdict = report.ref, report.job, report.verdict
    who = ("export", ref.project, ref.job)
    shown_errors = sum(1 for group in view.groups if group.code and group.code.startswith("state"))
    errors = verdict.errors[:shown_errors]
    status = report.not_running
    body: dict[str, Any] = {
        "status": "firing" if report.firing else "resolved",
        "fingerprint": fingerprint(*who),
        "kind": "export",
        "project": ref.project,
        "job": ref.job,
        "type": job.kind if job else None,
        "logstore": job.logstore if job else None,
        "jobStatus": job.status if job else None,
        "consoleUrl": link.url,
        "consoleFallbackUrl": link.fallback,
        "breached": report.breached,
        "resolved": report.resolved,
        "notRunning": None,
        "connectorErrors": [
            {"message": e.message, "state": e.state, "count": e.count} for e in errors
        ],
        "connectorErrorsOmitted": len(verdict.errors) - len(errors),
        "failedRows": verdict.failed_rows,
        "failedRowsBreached": verdict.failed_rows_breached,
        "lag": verdict.lag,
        "lagMax": verdict.lag_max,
        "lagBreached": verdict.lag_breached,
        "error": None,
    }
    if status is not None:
        body["notRunning"] = {
            "status": status.status,
            "since": status.since,
            "sinceIso": iso(status.since),
            "reminder": status.reminder,
            "fingerprint": fingerprint("not-running", *who, status.status),
        }
    if report.error is not None:
        body["error"] = error_body(report, who)
    return body
