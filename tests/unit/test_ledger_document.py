"""The ledger document: round trip, the 48-hour bound, and refusing what is not ours."""

from __future__ import annotations

import pytest

from shipper_alert.ledger.document import Document, LedgerError, TargetRecord
from shipper_alert.policy import KIND_FAILED, Episode, Finding

NOW = 1795852800


def test_round_trip_keeps_ids_episodes_and_the_checked_window():
    held = (Finding(KIND_FAILED, "t-2", "code:UnAuthorized", NOW - 300),)
    doc = Document(
        generation=4,
        checked_through=NOW - 60,
        targets={
            "p/l/s": TargetRecord(
                {"t-1": NOW - 600}, Episode(NOW - 900, NOW - 600, NOW - 300, frozenset(), held)
            )
        },
    )
    again = Document.from_bytes(doc.to_bytes())
    assert again == doc


def test_prune_forgets_what_the_api_no_longer_serves():
    doc = Document(
        targets={
            "a/b/c": TargetRecord({"old": NOW - 48 * 3600 - 1, "new": NOW - 3600}),
            "d/e/f": TargetRecord({"old": NOW - 49 * 3600}),
        }
    )
    doc.prune(NOW)
    assert doc.targets == {"a/b/c": TargetRecord({"new": NOW - 3600})}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b'{"version": 2}', "the ledger has version 2, expected 1"),
        (b"[1]", "the ledger has version None, expected 1"),
        (b"not json", "the ledger is not a valid document (JSONDecodeError)"),
        (
            b'{"version": 1, "generation": 1, "checkedThrough": null, "targets": {"x": 1}}',
            "the ledger is not a valid document (TypeError)",
        ),
        (b"\xff", "the ledger is not a valid document (UnicodeDecodeError)"),
    ],
)
def test_what_is_not_a_ledger_is_refused_with_a_reason(raw, error):
    with pytest.raises(LedgerError) as caught:
        Document.from_bytes(raw)
    assert str(caught.value) == error
