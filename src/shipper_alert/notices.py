"""The notification policy applied to one check's reports (pure): what each message carries.

Stateless, each shipper's decision is `policy.replay` over the windows its fetched tasks
show; with the ledger it is `policy.step` from the stored episode over every window not
yet checked, leaving out what the ledger says was notified (a task that failed again
after an SLS retry is counted, not reported again) and adding failures whose own check
missed them (a retry was running then). The report that goes to the templates carries
the decision's findings; `Found` keeps what the check itself found, for the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from shipper_alert.config import Rules
from shipper_alert.evaluate import Stall
from shipper_alert.ledger.document import Document
from shipper_alert.policy import (
    KIND_FAILED,
    KIND_STALL,
    KIND_STUCK,
    RESOLVED,
    Decision,
    Episode,
    Finding,
    Observation,
    cause_of,
    replay,
    step,
)
from shipper_alert.report import Found, ShipperReport
from shipper_alert.window_views import History


@dataclass
class Update:
    """What the ledger learns from one shipper, written only after delivery."""

    episode: Episode | None
    notified: dict[str, int] = field(default_factory=dict)


def _known(episode: Episode | None, notified: dict[str, int]) -> set[str]:
    return set(notified) | {f.key for f in (episode.held if episode else ())}


def _every_failure_alerts(rules: Rules) -> bool:
    """Whether one failed task breaches its window, so that a missed one is owed later.

    With a higher threshold or a ratio, a failure alone did not breach its window, and
    reporting it later would alert on what the rules let pass.
    """
    return rules.fail_threshold <= 1 and rules.fail_ratio_threshold is None


def _late(history: History, before: int, known: set[str], end: int) -> tuple[Finding, ...]:
    """Failed now, due before the first unchecked window, never notified nor held."""
    return tuple(
        Finding(KIND_FAILED, t.id, cause_of(t.code, t.message), end)
        for t in sorted(history.failed_now.values(), key=lambda t: (t.alert_time, t.id))
        if t.alert_time < before and t.id not in known
    )


def _with_ledger(
    history: History, doc: Document, name: str, rules: Rules
) -> tuple[Decision, tuple[Finding, ...], int, tuple[Finding, ...]]:
    """(last decision, everything sent, refailed count, this check's findings)."""
    record = doc.targets.get(name)
    episode = record.episode if record else None
    notified = dict(record.notified) if record else {}
    known = _known(episode, notified)
    sent: list[Finding] = []
    found: list[Finding] = []
    refailed = 0
    last_state: str | None = None
    decision = Decision(None, (), episode)
    for index, view in enumerate(history.windows):
        seen = view.observation()
        fresh = tuple(f for f in seen.findings if f.key not in known)
        refailed += sum(1 for f in seen.findings if f.key in notified)
        if index == 0 and doc.checked_through is not None and _every_failure_alerts(rules):
            fresh += _late(history, view.window.start, known | {f.key for f in fresh}, seen.end)
        seen = Observation(seen.start, seen.end, seen.trouble or bool(fresh), fresh)
        decision = step(decision.episode, seen, rules.remind_interval, rules.notify_resolved)
        known |= {f.key for f in fresh}
        found.extend(fresh)
        sent.extend(decision.send)
        # A catch-up sends once for all its windows, in the state of the latest that sent.
        last_state = decision.state or last_state
    return replace(decision, state=last_state), tuple(sent), refailed, tuple(found)


def _stateless_carry(
    decision: Decision, observations: list[Observation], remind: int
) -> tuple[Finding, ...]:
    """What a stateless message carries: the replay's findings, and again every failure and
    stuck task still visible from the last three REMIND_INTERVALs (the replay horizon).

    The replay recomputes earlier decisions from the tasks as they are now, so it can
    believe a failure went out earlier when the check that owned it saw it otherwise (an
    SLS retry was running then, or another task has recovered since and moved the
    episode's messages). Carrying what is visible again errs towards a repeat, never a
    loss: a failure that stays failed is in a message whatever the owning check saw.
    """
    if decision.state is None or remind <= 0 or not observations:
        return decision.send
    since = observations[-1].end - 3 * remind
    carried = {f.key: f for f in decision.send}
    for seen in observations:
        if seen.end <= since:
            continue
        for finding in seen.findings:
            if finding.kind in (KIND_FAILED, KIND_STUCK):
                carried.setdefault(finding.key, finding)
    return tuple(sorted(carried.values(), key=lambda f: (f.window_end, f.key)))


def apply_policy(
    reports: list[ShipperReport], rules: Rules, doc: Document | None
) -> tuple[list[ShipperReport], dict[str, Update]]:
    """Each readable report as its message should carry it, and the ledger's updates."""
    result: list[ShipperReport] = []
    updates: dict[str, Update] = {}
    for report in reports:
        history = report.history
        if history is None or not history.windows:
            result.append(report)
            continue
        name = str(report.ref)
        refailed = 0
        if doc is None:
            last = len(history.windows) - 1
            observations = [v.observation(i == last) for i, v in enumerate(history.windows)]
            decision = replay(observations, rules.remind_interval, rules.notify_resolved)
            sent = _stateless_carry(decision, observations, rules.remind_interval)
            found = observations[-1].findings
        else:
            decision, sent, refailed, found = _with_ledger(history, doc, name, rules)
            updates[name] = Update(
                decision.episode,
                {f.key: f.window_end for f in sent if f.kind in (KIND_FAILED, KIND_STUCK)},
            )
        result.append(_carrying(report, history, decision, sent, found, refailed))
    return result, updates


def _carrying(
    report: ShipperReport,
    history: History,
    decision: Decision,
    sent: tuple[Finding, ...],
    found: tuple[Finding, ...],
    refailed: int,
) -> ShipperReport:
    failed = tuple(
        sorted(
            (history.failed_task(f) for f in sent if f.kind == KIND_FAILED),
            key=lambda t: (t.alert_time, t.create_time, t.id),
        )
    )
    stuck = tuple(history.stuck_task(f) for f in sent if f.kind == KIND_STUCK)
    stalls = [f for f in sent if f.kind == KIND_STALL]
    stall = report.stall
    if stalls and (stall is None or f"stall:{stall.due_time}" != stalls[-1].key):
        stall = Stall(None, int(stalls[-1].key.split(":", 1)[1]), True)
    return replace(
        report,
        breached=bool(failed),
        failed_tasks=failed,
        stuck_tasks=stuck,
        stall=stall if stalls else None,
        resolved=decision.state == RESOLVED,
        state=decision.state,
        held=len(decision.held),
        refailed=refailed,
        history=None,
        found=Found(
            report.breached or any(f.kind == KIND_FAILED for f in found),
            tuple(f.key for f in found if f.kind == KIND_FAILED),
            tuple(f.key.removeprefix("stuck:") for f in found if f.kind == KIND_STUCK),
            any(f.kind == KIND_STALL for f in found),
        ),
    )
