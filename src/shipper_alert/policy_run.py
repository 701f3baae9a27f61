"""The notification policy's place in one check: which windows it decides, and the ledger.

`PolicyRun.start` chooses the mode. The policy paces the timer's checks: a manual check
(an explicit request for a window) reports all it finds at once, as FIRING, and neither
reads nor moves the ledger. A timer check with STATE_URL reads and claims the ledger (see
`ledger.session`); without it, or when the ledger cannot be read, it replays the policy
over `policy.replay_horizon` windows. `apply` turns the reports into what the
messages carry; `finish` writes the ledger once delivery is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from shipper_alert.ledger.session import BUSY, LEDGER, REPEAT, STATELESS, Plan, begin, commit
from shipper_alert.models import Window
from shipper_alert.policy import replay_horizon
from shipper_alert.report import Found, ShipperReport
from shipper_alert.window_views import windows_between

if TYPE_CHECKING:  # the export policy and the ledger's stores load when a check needs them
    from shipper_alert.config import Settings
    from shipper_alert.ledger.store import Store
    from shipper_alert.notices import Update

log = logging.getLogger(__name__)
MANUAL = "manual"


@dataclass
class PolicyRun:
    plan: Plan
    settings: Settings
    store: Store | None = None
    updates: dict[str, Update] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def start(
        cls,
        settings: Settings,
        kind: str,
        window: Window,
        context: Any,
        now: Callable[[], float],
        timeout: float,
    ) -> PolicyRun:
        if kind != "timer":
            return cls(Plan(MANUAL, ()), settings)
        rules = settings.rules
        horizon = replay_horizon(rules.remind_interval, window.length)
        stateless = tuple(windows_between(window.end - horizon * window.length, window))
        if settings.ledger is None:
            return cls(Plan(STATELESS, stateless), settings)
        from shipper_alert.ledger import open_store  # noqa: PLC0415

        store = open_store(settings.ledger, settings.credentials, now)
        plan = begin(store, window, rules, now(), lease=timeout, claim=not settings.dry_run)
        if plan.mode == STATELESS:
            plan = replace(plan, windows=stateless)
        notes = (plan.note,) if plan.note and plan.mode == STATELESS else ()
        return cls(plan, settings, store, notes=notes)

    @property
    def windows(self) -> tuple[Window, ...]:
        return self.plan.windows

    def apply(self, reports: list[ShipperReport]) -> list[ShipperReport]:
        if self.plan.mode == MANUAL:
            return reports
        if self.plan.mode in (REPEAT, BUSY):
            log.info("ledger: %s; nothing new is sent", self.plan.note)
            return [_quiet(r) for r in reports]
        from shipper_alert.notices import apply_policy  # noqa: PLC0415

        doc = self.plan.doc if self.plan.mode == LEDGER else None
        # A message's counts line says how many failed again (report.refailed).
        reports, self.updates = apply_policy(reports, self.settings.rules, doc)
        return reports

    def apply_exports(self, reports: list, window: Window) -> list:
        """The export jobs' reports under the same episode rule (export_policy)."""
        if self.plan.mode == MANUAL or not reports:  # no EXPORTS: the export modules stay out
            return reports
        from shipper_alert.export_policy import apply_export_policy, quiet  # noqa: PLC0415

        if self.plan.mode in (REPEAT, BUSY):
            return [quiet(r) for r in reports]
        doc = self.plan.doc if self.plan.mode == LEDGER else None
        reports, updates = apply_export_policy(reports, self.settings.rules, window, doc)
        self.updates.update(updates)
        return reports

    def finish(self, window: Window, delivered: bool, now: float) -> None:
        if self.store is None:
            return
        try:
            if self.plan.mode != LEDGER or self.settings.dry_run:
                return  # a dry run never writes the ledger
            if delivered:
                problem = commit(
                    self.store, self.plan, self.updates, self.plan.windows[-1].end, now
                )
            elif self.plan.doc is not None and self.plan.doc.checked_through is None:
                # A new ledger records where it starts, so that the next check catches up
                # this undelivered window instead of starting after it.
                start = self.plan.windows[0].start
                problem = commit(self.store, self.plan, {}, start, now)
            else:
                problem = None
            if problem:
                self.plan = replace(self.plan, note=problem)
        finally:
            self.store.close()

    def to_json(self) -> dict[str, Any]:
        return self.plan.to_json()


def _quiet(report: ShipperReport) -> ShipperReport:
    """A report that sends nothing but its monitor error, for a repeated or busy check."""
    found = Found(
        report.breached,
        tuple(t.id for t in report.failed_tasks),
        tuple(t.id for t in report.stuck_tasks),
        report.stall is not None,
    )
    return replace(report, history=None, state=None, found=found)
