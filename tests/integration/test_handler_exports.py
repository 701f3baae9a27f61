"""Export jobs end to end: index.handler against the simulator (dry runs, text preview).

One project holds a healthy job, a stopped one, one whose connector fails, one with failed
rows, one that lags, and enough idle jobs that `project/*` needs three pages of each view.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

import index

PROJECT = "exp-a"
FILLERS = 230


def job(name: str, **fields: Any) -> dict[str, Any]:
    return {"project": PROJECT, "name": name, "logstore": "app-log", **fields}


def metrics(**fields: Any) -> list[dict[str, Any]]:
    return [{"start": "-10m", "count": 10, **fields}]


SCENARIO = {
    "projects": [{"name": PROJECT, "logstores": [{"name": "app-log"}]}],
    "exports": [
        job("healthy", metrics=metrics()),
        job("stopped", status="STOPPED", modified="-3m", metrics=[]),
        job(
            "broken",
            type="maxcompute",
            metrics=metrics(state=2, error="write odps failed: table schema changed"),
        ),
        job("lossy", metrics=metrics(failed=4)),
        job("behind", metrics=metrics(lags=900)),
        {
            **job("failing", metrics=[{"start": "-5m", "count": 300, "state": 2, "error": "no"}]),
            "logstore": "other",
        },
        *(
            {"project": PROJECT, "name": f"idle-{i:03d}", "logstore": "other"}
            for i in range(FILLERS)
        ),
        {"project": "exp-b", "name": "no-logs", "logstore": "x", "operationalLogs": False},
    ],
}


def context():
    return SimpleNamespace(
        request_id="req-1",
        region="cn-hangzhou",
        function=SimpleNamespace(name="shipper-alert", timeout=60, handler="index.handler"),
        credentials=SimpleNamespace(
            access_key_id="sim-access-key-id",
            access_key_secret="sim-access-key-secret",
            security_token=None,
        ),
    )


@pytest.fixture
def sim(sls_sim):
    return sls_sim(SCENARIO)


@pytest.fixture
def check(sim, sim_clock, tmp_path, monkeypatch):

    def call(**changes: str):
        environment = {"SLS_ENDPOINT": sim.endpoint, "DRY_RUN": "true", **changes}
        environment["TMPDIR"] = str(tmp_path)  # the reminder state's directory
        monkeypatch.setattr("os.environ", environment)
        monkeypatch.setattr("time.time", sim_clock.now)
        return json.loads(index.handler(b"", context()))

    return call


def by_job(result: dict) -> dict[str, dict]:
    return {e["job"]: e for e in result["exports"]}


def test_each_unhealthy_job_is_reported_once_and_healthy_ones_not(check, sim):
    result = check(EXPORTS=f"{PROJECT}/*")

    exports = by_job(result)
    assert len(exports) == 6 + FILLERS  # every job, across three pages of the OSS view
    assert [r.params["offset"] for r in sim.requests_for("ListOSSExports")] == ["0", "100", "200"]
    assert {name for name, e in exports.items() if e["breached"]} == {
        "stopped",
        "broken",
        "lossy",
        "behind",
        "failing",
    }
    assert exports["stopped"]["notRunning"]["status"] == "STOPPED"
    assert exports["broken"]["connectorErrors"] == [
        {"message": "write odps failed: table schema changed", "state": 2, "count": 5}
    ]
    assert exports["broken"]["type"] == "maxcompute"
    assert exports["lossy"]["failedRows"] == 20  # 4 per deliver row, 5 minutes
    assert exports["behind"]["lag"] == 900
    assert exports["healthy"] == {
        "project": PROJECT,
        "job": "healthy",
        "type": "oss",
        "logstore": "app-log",
        "status": "RUNNING",
        "breached": False,
        "notRunning": None,
        "connectorErrors": [],
        "failedRows": 0,
        "lag": 0.5,
        "resolved": False,
        "state": None,  # a manual check reports at once, outside the notification policy
        "held": 0,
        "error": None,
    }
    assert result["ok"] is True
    # One query per diagnostic logstore and window (this one and the one before), not per job.
    assert len(sim.requests_for("GetLogs")) == 2
    (message,) = result["messages"]
    assert message["title"].startswith(
        "[shipper-alert (cn-hangzhou)] FIRING: exp-a/behind and 4 more"
    )
    assert "5 export jobs" in message["text"]
    text = message["text"]
    for line in (
        "== exp-a/stopped ==",
        "1x job is STOPPED for 2m [JobNotRunning]",
        "5x write odps failed: table schema changed [state 2: failed, progress blocked]",
        "20x rows failed to export (threshold 1) [FailedRows]",
        "1x lag stayed at or above 5m all window (lowest 900s, highest 900s) [Lag]",
        "MaxCompute export job: 10 metric rows, 0 failed rows, 5 with connector errors",
    ):
        assert line in text
    assert "exp-a/healthy" not in text
    assert "idle-" not in text


def test_a_stopped_job_is_not_repeated_before_its_reminder(check, sim_clock):
    check(EXPORTS=f"{PROJECT}/stopped")
    sim_clock.advance(300)

    result = check(EXPORTS=f"{PROJECT}/stopped")

    assert by_job(result)["stopped"]["breached"] is False
    assert result["messages"] == []


def test_a_job_whose_errors_stop_is_resolved(check, sim_clock):
    check(EXPORTS=f"{PROJECT}/broken")
    sim_clock.advance(600)  # the last error row (a minute before the start) is in the window before

    result = check(EXPORTS=f"{PROJECT}/broken")

    entry = by_job(result)["broken"]
    assert (entry["breached"], entry["resolved"]) == (False, True)
    assert result["messages"][0]["title"].startswith("[shipper-alert (cn-hangzhou)] RESOLVED")


def test_unreadable_diagnostic_logs_are_a_monitor_error_saying_how_to_enable_them(check):
    result = check(EXPORTS="exp-b/no-logs")

    error = by_job(result)["no-logs"]["error"]
    assert error["code"] == "LogStoreNotExist"
    assert error["message"].startswith(
        "cannot read the job operational logs in exp-b/internal-diagnostic_log: logstore"
        " internal-diagnostic_log does not exist. Export jobs write their health to the"
        " internal-diagnostic_log logstore only when job operational logs are on"
    )
    assert "Job Operational Logs" in result["messages"][0]["text"]
    assert result["ok"] is False


def test_a_missing_job_is_a_monitor_error(check):
    result = check(EXPORTS=f"{PROJECT}/nope")

    assert by_job(result)["nope"]["error"]["code"] == "JobNotExist"


def test_a_legacy_shipper_that_is_gone_names_the_export_job_that_replaced_it(check):
    result = check(SHIPPERS=f"{PROJECT}/app-log/old-oss")

    (shipper,) = result["shippers"]
    assert shipper["error"]["code"] == "ShipperNotExist"
    assert shipper["error"]["message"] == (
        "shipper old-oss does not exist; this shipper was replaced by export job healthy,"
        " stopped, lossy, behind, broken; add it to EXPORTS (exp-a/healthy,exp-a/stopped,"
        "exp-a/lossy,exp-a/behind,exp-a/broken)"
    )
    assert result["exports"] == []


def test_a_stopped_job_is_reminded_after_remind_interval(check, sim_clock):
    check(EXPORTS=f"{PROJECT}/stopped", REMIND_INTERVAL="30m")
    sim_clock.advance(1800)

    result = check(EXPORTS=f"{PROJECT}/stopped", REMIND_INTERVAL="30m")

    status = by_job(result)["stopped"]["notRunning"]
    assert status is not None
    assert status["reminder"] is True
    assert "1x job is STOPPED for 32m (reminder) [JobNotRunning]" in result["messages"][0]["text"]


def test_an_export_episode_fires_once_then_digests_on_the_hour(check, sim_clock):
    """Timer checks, stateless: a job whose connector fails for two hours sends FIRING,
    then STILL FAILING on the REMIND_INTERVAL grid, not one message per window."""
    from datetime import datetime, timezone  # noqa: PLC0415

    check(EXPORTS=f"{PROJECT}/failing")  # sets the environment (a manual check)
    titles = {}
    for n in range(24):
        trigger = datetime.fromtimestamp(sim_clock.now() // 300 * 300, timezone.utc)
        event = json.dumps({"triggerTime": trigger.strftime("%Y-%m-%dT%H:%M:%SZ")})
        result = json.loads(index.handler(event.encode(), context()))
        entry = by_job(result)["failing"]
        titles[n] = (entry["state"], [m["title"] for m in result["messages"]])
        sim_clock.advance(300)
    sent = {n: t for n, t in titles.items() if t[1]}
    assert 2 <= len(sent) <= 3
    first = min(sent)
    assert sent[first][0] == "FIRING"
    assert all(state == "STILL FAILING" for n, (state, _) in sent.items() if n != first)
    assert all(titles[n] == (None, []) for n in titles if n not in sent and n > first)
