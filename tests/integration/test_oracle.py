"""The oracle's short version (`python tools/oracle.py` runs the long one).

A model of SLS with its own retries, late/early/repeated/skipped triggers, clock skew and
failed deliveries, scored from how each task was built: with the ledger, no failure that
stays failed and no stuck task is missed or sent twice; on clean timelines neither mode
misses one or sends an unpaired RESOLVED.
"""

from __future__ import annotations

import pytest

from shipper_alert_dev.oracle import simulate


@pytest.mark.parametrize("env", [{}, {"FAIL_GRACE": "1h"}], ids=["defaults", "grace-1h"])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_ledger_reports_every_lasting_failure_exactly_once(seed, env):
    score = simulate(seed, "ledger", hours=12, env=env)
    assert score.permanent > 0
    assert score.stuck > 0
    assert (score.failed_missed, score.failed_duplicated) == (0, 0)
    assert (score.stuck_missed, score.stuck_duplicated) == (0, 0)
    assert score.transient_duplicated == 0
    assert score.unpaired_resolved == 0


@pytest.mark.parametrize(
    "env",
    [{}, {"FAIL_GRACE": "1h"}, {"REMIND_INTERVAL": "5m"}],
    ids=["defaults", "grace-1h", "remind-5m"],
)
@pytest.mark.parametrize("mode", ["ledger", "stateless"])
def test_a_clean_timeline_misses_no_lasting_failure_and_pairs_every_resolved(mode, env):
    """Stateless too: a failure that stays failed is in a message (perhaps two)."""
    score = simulate(3, mode, hours=12, env=env, clean=True)
    assert score.permanent > 0
    assert (score.failed_missed, score.stuck_missed) == (0, 0)
    assert score.unpaired_resolved == 0


def test_the_policy_keeps_a_day_readable():
    """Far fewer messages than breached windows: digests, not one message per window."""
    paced = simulate(1, "ledger", hours=12)
    every_window = simulate(1, "ledger", hours=12, env={"REMIND_INTERVAL": "5m"})
    assert paced.messages * 4 < every_window.messages
