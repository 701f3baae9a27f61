"""The top of every message: its title, push line, causes and footer, from a report.

Every channel shows the same words (titles.py) and opens with the same causes (causes.py):
the failed tasks of every shipper grouped by cause, and each export job's error groups,
each with its exact count, the targets it hits, the fix hint of a known code and a few
example task ids, so that every cause is visible whatever the size limit leaves of the
task lists below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipper_alert import links, titles
from shipper_alert.causes import Hint, cause_key, group_causes, hint_for
from shipper_alert.report import Report, ShipperReport

MAX_CAUSES = 12  # causes listed one by one; the rest are counted (with their tasks)
EXAMPLE_IDS = 3  # example task ids per cause


@dataclass(frozen=True)
class CauseLine:
    key: str  # taskCode, else the masked message
    count: int  # failed tasks (for an export job: its error rows)
    targets: tuple[tuple[str, int], ...]  # (target, count), the most hit first
    hint: Hint | None
    example_ids: tuple[str, ...]


@dataclass(frozen=True)
class Causes:
    shown: tuple[CauseLine, ...]
    hidden: int  # causes not listed
    hidden_count: int  # their failed tasks

    @property
    def with_examples(self) -> tuple[CauseLine, ...]:
        return tuple(c for c in self.shown if c.example_ids)


def finding_state(finding) -> str:
    """One of titles.STATES for a shipper or export job with findings."""
    trouble = (
        finding.breached or getattr(finding, "stuck_tasks", ()) or getattr(finding, "stall", None)
    )
    if finding.error and finding.error_notice_due and not trouble:
        return titles.MONITOR_ERROR
    if finding.state in titles.STATES:
        return finding.state
    if finding.resolved and not finding.firing:
        return titles.RESOLVED
    return titles.FIRING


def state_of(findings: Sequence) -> str:
    return titles.headline_state([finding_state(f) for f in findings]) if findings else "FIRING"


def targets_of(findings: Sequence) -> tuple[str, ...]:
    return tuple(str(f.ref) for f in findings) or ("no target",)


def causes_of(report: Report) -> Causes:
    """Every cause of the report's findings, ordered as causes.group_causes orders them."""
    findings = report.findings
    failures = {
        str(r.ref): r.failed_tasks
        for r in findings
        if isinstance(r, ShipperReport) and r.failed_tasks
    }
    lines = [
        CauseLine(c.key, c.count, c.targets, c.hint, c.example_ids(EXAMPLE_IDS))
        for c in group_causes(failures)
    ]
    for job in findings:
        if isinstance(job, ShipperReport) or not job.breached:
            continue
        for group in job.groups:
            key = cause_key(group.code, group.message)
            hint = hint_for(group.code, group.message)
            lines.append(CauseLine(key, group.count, ((str(job.ref), group.count),), hint, ()))
    shown = tuple(lines[:MAX_CAUSES])
    rest = lines[MAX_CAUSES:]
    return Causes(shown, len(rest), sum(c.count for c in rest))


def title(report: Report, findings: Sequence, part: int = 1, parts: int = 1) -> str:
    """`[label] FIRING: p/l/s`, with ` · part 1 of 2` when the message is split."""
    text = titles.title(report.label, state_of(findings), targets_of(findings))
    return f"{text} · part {part} of {parts}" if parts > 1 else text


def push_line(report: Report, causes: Causes, max_chars: int = 150) -> str:
    """The title, the counts and as many causes as fit: what a locked phone shows."""
    findings = report.findings
    totals = report.totals
    return titles.essentials(
        report.label,
        state_of(findings),
        targets_of(findings),
        failed=totals.failed,
        stuck=totals.stuck,
        stalled=totals.stalled,
        unreadable=totals.errors,
        causes=causes.shown,
        max_chars=max_chars,
    )


def footer(report: Report) -> str:
    return titles.footer(report.function_name, report.account_id, report.region, report.request_id)


def retry_commands(report: Report, shipper: ShipperReport) -> tuple[str, ...]:
    """The paste-able retry commands of a shipper's failed tasks when AUTO_RETRY did not
    run for them (10 ids a command); none for an export job or with AUTO_RETRY's outcome."""
    if not isinstance(shipper, ShipperReport) or shipper.retry is not None:
        return ()
    ref = shipper.ref
    ids = [task.id for task in shipper.failed_tasks]
    return links.retry_commands(report.region, ref.project, ref.logstore, ref.shipper, ids)
