"""make demo shows every kind of finding, through index.handler, in its dry-run checks."""

from __future__ import annotations

import io

from shipper_alert.demo import SCENARIO, run_dry_checks
from shipper_alert.sim import Scenario, SlsSimulator


def test_the_demo_checks_show_failing_stuck_stalled_resolved_and_healthy_shippers(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    out = io.StringIO()
    with SlsSimulator(Scenario.load(SCENARIO)) as sim:
        credential = sim.credential
        results = run_dry_checks(
            sim.endpoint, credential.access_key_id, credential.access_key_secret, out=out
        )
    assert len(results) == 3
    assert all(r["ok"] and r["dryRun"] for r in results)
    windows = [r["window"] for r in results]
    assert windows[0]["to"] == windows[1]["from"]
    assert windows[1]["to"] == windows[2]["from"]
    entries = [s for r in results for s in r["shippers"]]
    by_name = {}
    for entry in entries:
        by_name.setdefault(entry["shipper"], []).append(entry)
    assert all(e["breached"] for e in by_name["oss-archive"])  # fails in every window
    assert sum(len(e["failedTaskIds"]) for e in by_name["oss-archive"]) >= 3
    assert [len(e["stuckTaskIds"]) for e in by_name["oss-stuck"]].count(1) == 1
    assert [e["stalled"] for e in by_name["oss-stuck"]].count(True) == 1
    assert not any(
        e["breached"] or e["stuckTaskIds"] or e["stalled"] for e in by_name["oss-backup"]
    )
    text = out.getvalue()
    for marker in ("BREACHED:", "STUCK:", "STALLED:", "AUTO_RETRY: would retry", "Asia/Shanghai"):
        assert marker in text
