"""The notification policy for export jobs (pure): one episode per job, as for shippers.

An export job's findings (status not RUNNING, connector errors, failed rows, lag) are
counts over a window, not task ids, so a finding here is one finding line of one window
(key `<cause>@<window end>`), and a message shows the checked window's lines.

- With the ledger, `policy.step` runs from the stored episode: FIRING at the first
  breach, STILL FAILING digests on the REMIND_INTERVAL grid or at once for a new cause,
  RESOLVED once clear for a whole interval (flapping folded), exactly as for shippers.
- Stateless, a check sees its own window and the one before (what `exports_check`
  reads), so it decides from those two: FIRING when the previous window was clear,
  STILL FAILING on the grid or for a cause the previous window did not show, RESOLVED
  when the previous window breached and this one does not. Without a longer history it
  cannot fold flapping into one episode (the README says so).
"""

from __future__ import annotations

from dataclasses import replace

from shipper_alert.config import Rules
from shipper_alert.exports_report import ExportReport
from shipper_alert.ledger.document import Document
from shipper_alert.models import Window
from shipper_alert.notices import Update
from shipper_alert.policy import (
    FIRING,
    RESOLVED,
    STILL_FAILING,
    Finding,
    Observation,
    cause_of,
    on_grid,
    step,
)

KIND_EXPORT = "export"


def ledger_name(report: ExportReport) -> str:
    """The export job's key in the ledger, apart from the shippers' `p/l/s` keys."""
    return f"export:{report.ref}"


def causes(report: ExportReport) -> tuple[str, ...]:
    """The causes a report shows: the status, each connector error text, rows, lag."""
    found = ["code:JobNotRunning"] if report.not_running is not None else []
    found += [cause_of(None, e.message or "") for e in report.verdict.errors]
    if report.verdict.failed_rows_breached:
        found.append("code:FailedRows")
    if report.verdict.lag_breached:
        found.append("code:Lag")
    return tuple(dict.fromkeys(found))


def observation(report: ExportReport, window: Window) -> Observation:
    findings = tuple(
        Finding(KIND_EXPORT, f"{cause}@{window.end}", cause, window.end) for cause in causes(report)
    )
    return Observation(window.start, window.end, report.in_trouble, findings)


def _stateless(report: ExportReport, seen: Observation, rules: Rules) -> str | None:
    if not seen.trouble:
        return RESOLVED if report.previous_breached and rules.notify_resolved else None
    if not report.previous_breached:
        return FIRING
    new = any(f.cause not in report.previous_causes for f in seen.findings)
    if new or on_grid(seen.start, seen.end, rules.remind_interval):
        return STILL_FAILING
    return None


def apply_export_policy(
    reports: list[ExportReport], rules: Rules, window: Window, doc: Document | None
) -> tuple[list[ExportReport], dict[str, Update]]:
    """Each export report as its message should carry it, and the ledger's updates."""
    result: list[ExportReport] = []
    updates: dict[str, Update] = {}
    for report in reports:
        if report.error is not None:
            result.append(report)  # unreadable: a monitor error, paced by its reminders
            continue
        seen = observation(report, window)
        if doc is None:
            state = _stateless(report, seen, rules)
            held = len(seen.findings) if seen.trouble and state is None else 0
        else:
            name = ledger_name(report)
            record = doc.targets.get(name)
            decision = step(
                record.episode if record else None,
                seen,
                rules.remind_interval,
                rules.notify_resolved,
            )
            state, held = decision.state, len(decision.held)
            updates[name] = Update(decision.episode)
        shown = report
        if state in (FIRING, STILL_FAILING) and report.not_running is None and report.lasting:
            # A message that goes out says the job is still not running, due or not.
            shown = replace(report, not_running=replace(report.lasting, reminder=True))
        result.append(
            replace(shown, state=state, held=held, resolved=state == RESOLVED, policed=True)
        )
    return result, updates


def quiet(report: ExportReport) -> ExportReport:
    """Sends nothing but its monitor error (a repeated or busy ledger check)."""
    return replace(report, state=None, resolved=False, policed=True)
