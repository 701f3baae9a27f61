"""`python -m shipper_alert check|validate` against the simulator."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from shipper_alert.cli import main
from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET

SCENARIO = {
    "projects": [
        {
            "name": "proj-a",
            "logstores": [
                {
                    "name": "logs",
                    "shippers": [
                        {
                            "name": "bad",
                            "tasks": [
                                {
                                    "id": "f-1",
                                    "created": "-9m",
                                    "status": "fail",
                                    "finished": "-3m",
                                    "message": "UnAuthorized",
                                }
                            ],
                        },
                        {
                            "name": "good",
                            "tasks": [
                                {
                                    "id": "s-1",
                                    "created": "-9m",
                                    "status": "success",
                                    "finished": "-3m",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ]
}


@pytest.fixture
def env(sls_sim, sim_clock, monkeypatch, tmp_path):
    sim = sls_sim(SCENARIO)
    values = {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-a/logs/bad,proj-a/logs/good",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
    }
    monkeypatch.setattr("os.environ", values)
    monkeypatch.setattr("time.time", sim_clock.now)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return values


def cli(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_check_dry_run_prints_the_summary_and_the_message(env):
    code, out = cli("check", "--dry-run")
    assert code == 0
    assert "proj-a/logs/bad: 1 failed, 0 succeeded, 0 running  BREACHED" in out
    assert "proj-a/logs/good: 0 failed, 1 succeeded, 0 running" in out
    assert (
        "--- text: [shipper-alert] FIRING: proj-a/logs/bad — 1 failed task · UnAuthorized ×1" in out
    )
    assert "f-1" in out
    assert out.rstrip().endswith("ok: true")


def test_check_json_prints_the_handler_result(env, sim_clock):
    now = int(sim_clock.now())
    code, out = cli(
        "check", "--dry-run", "--json", "--from", str(now - 3600), "--to", str(now - 60)
    )
    result = json.loads(out)
    assert code == 0
    assert result["window"] == {"from": now - 3600, "to": now - 60}
    assert result["shippers"][0]["failedTaskIds"] == ["f-1"]


def test_check_exits_1_when_a_shipper_cannot_be_read(env):
    env["SHIPPERS"] = "proj-a/logs/bad,proj-a/logs/missing"
    code, out = cli("check", "--dry-run")
    assert code == 1
    assert "proj-a/logs/missing: ERROR ShipperNotExist: shipper missing does not exist" in out


def test_check_exits_2_on_bad_configuration(env, capsys):
    env["CHECK_INTERVAL"] = "often"
    code, _ = cli("check", "--dry-run")
    assert code == 2
    assert "CHECK_INTERVAL: 'often' is not a duration" in capsys.readouterr().err


def test_check_exits_2_on_a_bad_window(env, capsys):
    code, _ = cli("check", "--dry-run", "--from", "tomorrow")
    assert code == 2
    assert (
        "the event 'from' 'tomorrow' is neither epoch seconds nor an ISO-8601 time"
        in capsys.readouterr().err
    )


def test_validate_prints_the_effective_configuration_with_secrets_masked(env):
    env["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T1/B2/very-secret-part"
    code, out = cli("validate")
    assert code == 0
    assert "CHECK_INTERVAL                   5m  (default)" in out
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET  ***" in out
    assert "SLACK_WEBHOOK_URL                https://hooks.slack.com/services/***" in out
    assert DEFAULT_ACCESS_KEY_SECRET not in out
    assert "very-secret-part" not in out
    assert out.rstrip().endswith("configuration is valid")


def test_validate_lists_every_problem_and_exits_2(env):
    env.update(LOOKBACK="60h", FAIL_THRESHOLD="-1", SMTP_HOST="smtp.example.com")
    code, out = cli("validate")
    assert code == 2
    assert "4 problem(s):" in out
    assert "  - LOOKBACK: 2d12h exceeds 47h (the API serves 48 hours)" in out
    assert "  - FAIL_THRESHOLD: '-1' is not a whole number" in out
    assert "  - SMTP_HOST: is set but EMAIL_TO is not, so the email channel is off" in out
    assert "  - channels: no channel is configured" in out


def test_the_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "shipper_alert", "validate"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert "SHIPPERS: no shipper to watch" in done.stdout
