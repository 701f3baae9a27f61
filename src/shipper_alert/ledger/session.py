"""One check's use of the ledger: read, decide the windows, claim, and write after delivery.

`begin` reads the document and says how this check proceeds:
- `ledger`: the windows since the last one checked (within LOOKBACK, so a skipped trigger
  is caught up) are checked and this invocation holds the claim on the generation it read;
- `repeat`: the window was already checked (a repeated trigger): nothing new is sent;
- `busy`: another invocation holds the claim: it sends, this one sends nothing;
- `stateless`: the ledger cannot be read or claimed; the stateless rules apply and the
  note says why.
`commit` writes the next generation only after delivery; a check that delivered nothing
leaves the ledger as it was, so what it found stays pending for the next check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shipper_alert.config import Rules
from shipper_alert.ledger.document import Document, LedgerError
from shipper_alert.ledger.store import STATE_NAME, Store
from shipper_alert.models import Window
from shipper_alert.redact import SecretScrubber
from shipper_alert.window_views import windows_between

log = logging.getLogger(__name__)

LEDGER = "ledger"
REPEAT = "repeat"
BUSY = "busy"
STATELESS = "stateless"


@dataclass(frozen=True)
class Plan:
    mode: str
    windows: tuple[Window, ...]  # to check, oldest first, the checked window last
    doc: Document | None = None
    note: str | None = None

    def to_json(self) -> dict:
        return {"mode": self.mode, "windows": len(self.windows), "note": self.note}


def begin(
    store: Store, window: Window, rules: Rules, now: float, lease: float, claim: bool = True
) -> Plan:
    """How this check proceeds; a dry run (`claim` False) reads but never claims."""
    try:
        raw = store.read(STATE_NAME)
        doc = Document() if raw is None else Document.from_bytes(raw)
    except LedgerError as exc:
        return _stateless(store, "cannot be read", exc, window)
    if doc.checked_through is not None and doc.checked_through >= window.end:
        note = f"window already checked (ledger checked through {doc.checked_through})"
        return Plan(REPEAT, (), doc, note)
    try:
        held = store.claim(doc.generation, now, lease) if claim else True
    except LedgerError as exc:
        return _stateless(store, "cannot be claimed", exc, window)
    if held is None:
        note = f"another invocation holds ledger generation {doc.generation}; it sends"
        return Plan(BUSY, (), doc, note)
    first_end = window.end
    if doc.checked_through is not None:
        first_end = max(doc.checked_through + window.length, window.end - rules.lookback)
    return Plan(LEDGER, tuple(windows_between(first_end, window)), doc)


def _stateless(store: Store, what: str, exc: LedgerError, window: Window) -> Plan:
    note = SecretScrubber.scrub(
        f"the ledger {store.description} {what} ({exc}); stateless rules used"
    )
    log.warning("%s", note)
    return Plan(STATELESS, (window,), None, note)


def commit(store: Store, plan: Plan, updates: dict, checked_through: int, now: float) -> str | None:
    """Write the next generation; the problem as a note when it cannot be written."""
    doc = plan.doc
    assert doc is not None
    doc.generation += 1
    doc.checked_through = checked_through
    for name, update in updates.items():
        record = doc.target(name)
        record.episode = update.episode
        record.notified.update(update.notified)
    doc.prune(now)
    try:
        store.replace(STATE_NAME, doc.to_bytes())
    except LedgerError as exc:
        note = SecretScrubber.scrub(f"the ledger could not be written ({exc})")
        log.warning("%s", note)
        return note
    return None
