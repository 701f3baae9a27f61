"""make demo shows every kind of finding, through index.handler, in its dry-run checks."""

from __future__ import annotations

import email
import io
import time
from email import policy

import pytest

from shipper_alert_dev.demo import (
    SCENARIO,
    make_standins,
    run_delivery,
    run_dry_checks,
    run_episode,
)
from shipper_alert_dev.sim import Scenario, SlsSimulator


@pytest.fixture
def mid_hour(monkeypatch):
    """Wall time at half past an hour (then running on), for the demo's relative scenario.

    The dry-run checks cover the last three windows before the trigger; a stateless digest
    falls on whole hours, so with the real clock one may land among them (a second notice of
    the stopped job or the stall) depending on when the test runs.
    """
    real = time.time
    started = real()
    base = (int(started) // 3600 + 1) * 3600 + 30 * 60 + 30
    monkeypatch.setattr(time, "time", lambda: base + (real() - started))


def test_the_demo_checks_show_failing_stuck_stalled_resolved_and_healthy_shippers(
    tmp_path, monkeypatch, mid_hour
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
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
    exports: dict[str, list] = {}
    for entry in (e for r in results for e in r["exports"]):
        exports.setdefault(entry["job"], []).append(entry)
    assert not any(e["breached"] for e in exports["export-nginx-oss"])
    # Its first notice once; a dry run writes no ledger, so each check's message (FIRING
    # again) says it is still stopped, as a reminder.
    stopped = [e["notRunning"] for e in exports["export-app-oss"]]
    assert [s is not None and not s["reminder"] for s in stopped].count(True) == 1
    assert all(e["connectorErrors"] for e in exports["export-audit-odps"])
    text = out.getvalue()
    for marker in ("BREACHED:", "STUCK:", "STALLED:", "AUTO_RETRY: would retry", "Asia/Shanghai"):
        assert marker in text
    for marker in ("== shop-prod/export-audit-odps ==", "job is STOPPED for", "ODPS-0130071"):
        assert marker in text


def test_the_demo_delivers_into_every_stand_in_and_prints_what_each_received(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    out = io.StringIO()
    standins = make_standins()
    with SlsSimulator(Scenario.load(SCENARIO)) as sim:
        credential = sim.credential
        for standin in standins.values():
            standin.start()
        try:
            result = run_delivery(
                sim.endpoint,
                credential.access_key_id,
                credential.access_key_secret,
                standins,
                out=out,
                output=tmp_path / "demo-output",
            )
        finally:
            for standin in standins.values():
                standin.stop()
    assert result["ok"] is True
    assert [(n["channel"], n["delivered"]) for n in result["notifications"]] == [
        (name, True) for name in ("dingtalk", "slack", "wecom", "feishu", "webhook", "email")
    ]
    for name in ("dingtalk", "slack", "wecom", "feishu", "webhook"):
        assert len(standins[name].delivered()) == 1, name
    assert len(standins["email"].received) == 1
    text = out.getvalue()
    for heading in (
        "--- DingTalk received (markdown, signed: /robot/send?access_token&sign&timestamp)",
        "--- Slack received (",
        "--- WeCom received (markdown)",
        "--- Feishu received (post, signed at",
        "--- webhook received (JSON",
        "--- SMTP received (to oncall@example.com: [shipper-alert-demo (cn-hangzhou)] FIRING:",
        "--- SMTP received (text/html part",
        "--- SMTP received (attachment failed-tasks-",
    ):
        assert heading in text
    folder = tmp_path / "demo-output"
    files = sorted(p.name for p in folder.iterdir())
    assert files == [
        "dingtalk-1.md", "email-1.csv", "email-1.eml", "email-1.html", "feishu-1.json", "slack-1.json",
        "webhook-1.json", "wecom-1.md",
    ]  # fmt: skip
    for name in files:
        assert f"{folder / name}" in text  # the demo says where each one is
        assert "oss-archive-unauth" in (folder / name).read_text("utf-8"), name
    [attached] = eml_attachments(folder / "email-1.eml")
    assert attached == (folder / "email-1.csv").read_bytes()
    eml = email.message_from_bytes((folder / "email-1.eml").read_bytes(), policy=policy.default)
    assert eml.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n") == (
        folder / "email-1.html"
    ).read_text("utf-8")


def eml_attachments(path):
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return [part.get_payload(decode=True) for part in message.iter_attachments()]


def test_the_demo_episode_fires_digests_and_resolves(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    standins = make_standins()
    for standin in standins.values():
        standin.start()
    try:
        titles = run_episode(standins, out=io.StringIO())
    finally:
        for standin in standins.values():
            standin.stop()
    label, target = "[shipper-alert-demo (cn-hangzhou)]", "shop-prod/orders/to-oss-episode"
    assert titles == [
        f"{label} FIRING: {target} — 1 failed task · UnAuthorized ×1",
        f"{label} STILL FAILING: {target} — 12 failed tasks · UnAuthorized ×12",
        f"{label} RESOLVED: {target} — 11 failed tasks · UnAuthorized ×11",
    ]


def test_the_demo_needs_only_the_demo_requirements(tmp_path):
    """make demo installs requirements-demo.txt only: the demo must run without the rest."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    demo_requirements = (root / "requirements-demo.txt").read_text().split()
    assert [line for line in demo_requirements if "==" in line] == ["aiosmtpd==1.4.6"]
    # Installed for the tests, not for the demo: importing any of them must not be needed.
    blocked = [
        "pytest",
        "boto3",
        "botocore",
        "moto",
        "yaml",
        "jsonschema",
        "trustme",
        "aliyun",
        "fc2",
    ]
    script = (
        "import sys, runpy\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ImportError(f'the demo imported {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "runpy.run_module('shipper_alert_dev.demo', run_name='__main__')\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root / "src"), "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "everything it started is stopped" in done.stdout
