"""The FC handler end to end against the local SLS simulator (dry runs: no channel here)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from types import SimpleNamespace

import pytest

import index
from shipper_alert.errors import ConfigError, EventError
from shipper_alert.handler import run
from shipper_alert_dev.sim import Fault

KEY_ID = "LTAI-handler-test"
KEY_SECRET = "handler-secret-value"
TOKEN = "sts-token-value-123"

SCENARIO = {
    "credentials": [{"accessKeyId": KEY_ID, "accessKeySecret": KEY_SECRET, "securityToken": TOKEN}],
    "projects": [
        {
            "name": "proj-a",
            "logstores": [
                {
                    "name": "logs",
                    "shippers": [
                        {
                            "name": "to-oss",
                            "tasks": [
                                {
                                    "id": "f-1",
                                    "created": "-20m",
                                    "status": "fail",
                                    "finished": "-4m",
                                    "message": "UnAuthorized: role cannot write bucket",
                                    "taskCode": "UnAuthorized",
                                },
                                {
                                    "id": "f-2",
                                    "created": "-10m",
                                    "status": "fail",
                                    "finished": "-3m",
                                    "message": "UnAuthorized: role cannot write bucket",
                                    "taskCode": "UnAuthorized",
                                },
                                {
                                    "id": "f-3",
                                    "created": "-9m",
                                    "status": "fail",
                                    "finished": "-2m",
                                    "message": "InvalidOssBucket",
                                },
                                {
                                    "id": "s-1",
                                    "created": "-8m",
                                    "status": "success",
                                    "finished": "-2m",
                                },
                                {
                                    "id": "old-fail",
                                    "created": "-3h",
                                    "status": "fail",
                                    "finished": "-2h",
                                },
                                {"id": "r-1", "created": "-30m", "status": "running"},
                            ],
                        },
                        {
                            "name": "to-odps",
                            "tasks": [
                                {
                                    "id": "ok-1",
                                    "created": "-9m",
                                    "status": "success",
                                    "finished": "-3m",
                                }
                            ],
                        },
                    ],
                },
                {
                    "name": "app",
                    "shippers": [
                        {
                            "name": "to-oss",
                            "tasks": [
                                {
                                    "id": "ok-2",
                                    "created": "-9m",
                                    "status": "success",
                                    "finished": "-3m",
                                }
                            ],
                        }
                    ],
                },
            ],
        }
    ],
}


def fc_context(region="cn-hangzhou", credentials=True, timeout=60):
    """The FC python3.10 context, or the python3.12 one (no credentials) when False."""
    context = SimpleNamespace(
        request_id="req-1",
        region=region,
        function=SimpleNamespace(name="shipper-alert", timeout=timeout, handler="index.handler"),
    )
    if credentials:
        context.credentials = SimpleNamespace(
            access_key_id=KEY_ID, access_key_secret=KEY_SECRET, security_token=TOKEN
        )
    return context


@pytest.fixture
def sim(sls_sim):
    return sls_sim(SCENARIO)


@pytest.fixture
def env(sim, tmp_path):
    return {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-a/logs/to-oss proj-a/logs/to-odps proj-a/app/to-oss",
        "DRY_RUN": "true",
        "TMPDIR": str(tmp_path),  # the reminder state's directory
    }


@pytest.fixture
def check(env, sim_clock, monkeypatch):
    """Run a check through index.handler (the FC entry) with the simulator's clock."""

    def call(event=b"", context=None, **changes):
        environment = {k: v for k, v in {**env, **changes}.items() if v is not None}
        monkeypatch.setattr("os.environ", environment)
        monkeypatch.setattr("time.time", sim_clock.now)
        return json.loads(index.handler(event, context or fc_context()))

    return call


EXPECTED_TO_OSS = {
    "project": "proj-a",
    "logstore": "logs",
    "shipper": "to-oss",
    "failed": 3,
    "succeeded": 1,
    "running": 1,
    "breached": True,
    "failedTaskIds": ["f-1", "f-2", "f-3"],
    "stuckTaskIds": [],
    "stalled": False,
    "resolved": False,
    "error": None,
    "state": None,  # a manual check: the notification policy paces timer checks only
    "held": 0,
}


def test_dry_run_reports_the_latest_window(check, sim, sim_clock):
    result = check()
    now = int(sim_clock.now())
    assert result["ok"] is True
    assert result["dryRun"] is True
    assert result["window"] == {"from": now - 360, "to": now - 60}
    shippers = {f"{s['logstore']}/{s['shipper']}": s for s in result["shippers"]}
    assert shippers["logs/to-oss"] == EXPECTED_TO_OSS
    assert shippers["logs/to-odps"]["breached"] is False
    assert shippers["app/to-oss"]["succeeded"] == 1
    assert result["notifications"] == []
    (message,) = result["messages"]
    assert message["channel"] == "text"
    assert message["title"] == (
        "[shipper-alert (cn-hangzhou)] FIRING: proj-a/logs/to-oss — 3 failed tasks · "
        "UnAuthorized ×2, InvalidOssBucket ×1"
    )
    for text in (
        "f-1",
        "f-2",
        "f-3",
        "2x UnAuthorized: role cannot write bucket [UnAuthorized]",
        "1x InvalidOssBucket",
    ):
        assert text in message["text"]
    assert "old-fail" not in message["text"]
    # The STS token of the FC context reached SLS.
    assert {r.headers.get("x-acs-security-token") for r in sim.received} == {TOKEN}
    assert all(r.authorized for r in sim.received)


def test_python312_context_reads_credentials_from_the_environment(check, sim):
    result = check(
        context=fc_context(credentials=False),
        ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=KEY_SECRET,
        ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN,
    )
    assert result["ok"] is True
    assert result["shippers"][2] == EXPECTED_TO_OSS  # sorted: app/to-oss, logs/to-odps, logs/to-oss


def test_injected_faults_still_give_a_complete_and_correct_result(check, sim, monkeypatch):
    clean = check()
    sim.clear_records()
    api = "GetShipperStatus"
    sim.inject(
        Fault(
            api=api,
            status=500,
            error_code="InternalServerError",
            error_message="internal server error",
            times=2,
        )
    )
    sim.inject(
        Fault(api=api, status=503, error_code="ServerBusy", error_message="server busy", times=1)
    )
    sim.inject(Fault(api=api, drop=True, times=1))
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # the client's back-off
    faulty = check()
    assert faulty == clean
    statuses = [r.status for r in sim.received]
    assert statuses.count(500) == 2
    assert statuses.count(503) == 1
    assert statuses.count(None) == 1  # the dropped connection
    assert statuses.count(200) == 3


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"SHIPPERS": None}, "SHIPPERS: no shipper to watch"),
        ({"LOOKBACK": "six hours"}, "LOOKBACK: 'six hours' is not a duration"),
        ({"FAIL_RATIO_THRESHOLD": "0"}, "FAIL_RATIO_THRESHOLD: '0' must be greater than 0"),
        ({"DRY_RUN": "false"}, "channels: no channel is configured"),
        (
            {"SLS_ENDPOINT": "ftp://x"},
            "SLS_ENDPOINT: SLS endpoint 'ftp://x' has unsupported scheme 'ftp'",
        ),
    ],
)
def test_bad_configuration_raises_and_sends_nothing(check, sim, changes, problem):
    with pytest.raises(ConfigError) as caught:
        check(**changes)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert sim.received == []


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (b"{not json", "the event is not JSON"),
        (b'{"dryRun": "yes"}', "the event 'dryRun' must be true or false, not a string"),
        (
            b'{"from": 10, "to": 5}',
            "'from' (1970-01-01T00:00:10Z) must be before 'to' (1970-01-01T00:00:05Z)",
        ),
        (
            b'{"to": 9999999999}',
            "the window [2286-11-20T17:41:39Z, 2286-11-20T17:46:39Z) ends in the future",
        ),
        (
            b'{"from": 1000, "to": 2000}',
            "the window [1970-01-01T00:16:40Z, 1970-01-01T00:33:20Z) starts more than 47 hours ago",
        ),
    ],
)
def test_bad_events_raise_and_send_nothing(check, sim, event, problem):
    with pytest.raises(EventError) as caught:
        check(event)
    assert caught.value.problem.startswith(problem)
    assert sim.received == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            Fault(status=200, body="<html>gateway</html>"),
            'GetShipperStatus response: is not valid JSON: "<html>gateway</html>"',
        ),
        (
            Fault(status=200, json={"count": 0, "tasks": []}),
            'GetShipperStatus response: missing "total"',
        ),
        (
            Fault(
                status=200,
                json={
                    "count": 1,
                    "total": 1,
                    "tasks": [
                        {
                            "id": "x",
                            "taskStatus": "fail",
                            "taskMessage": "m",
                            "taskCreateTime": "yesterday",
                            "taskFinishTime": 1,
                        }
                    ],
                },
            ),
            'GetShipperStatus response: tasks[0].taskCreateTime is "yesterday", expected an integer',
        ),
        (
            Fault(
                status=200,
                json={
                    "count": 1,
                    "total": 1,
                    "tasks": [
                        {
                            "id": "x",
                            "taskStatus": "broken",
                            "taskCreateTime": 1,
                            "taskFinishTime": 1,
                        }
                    ],
                },
            ),
            'GetShipperStatus response: tasks[0].taskStatus is "broken", expected one of "success", "fail", "running"',
        ),
    ],
)
def test_bad_api_responses_are_a_clear_monitor_error_and_lose_nothing_else(
    check, sim, fault, error
):
    sim.inject(
        Fault(
            **{
                **fault.__dict__,
                "api": "GetShipperStatus",
                "logstore": "logs",
                "shipper": "to-odps",
                "times": None,
            }
        )
    )
    result = check()
    assert result["ok"] is False
    shippers = {f"{s['logstore']}/{s['shipper']}": s for s in result["shippers"]}
    assert shippers["logs/to-odps"]["error"]["code"] == "BadResponse"
    assert shippers["logs/to-odps"]["error"]["message"].startswith(error)
    assert shippers["logs/to-oss"] == EXPECTED_TO_OSS  # the others are still checked
    text = result["messages"][0]["text"]
    assert "MONITOR ERROR: cannot read this shipper: BadResponse" in text
    assert "f-1" in text


def test_a_missing_shipper_is_a_monitor_error_with_the_request_id(check, sim):
    result = check(SHIPPERS="proj-a/logs/gone proj-a/logs/to-oss")
    gone = result["shippers"][0]
    assert gone["shipper"] == "gone"
    assert gone["error"]["code"] == "ShipperNotExist"
    assert gone["error"]["message"] == "shipper gone does not exist"
    assert gone["error"]["status"] == 400
    assert len(gone["error"]["requestId"]) == 24
    assert result["ok"] is False
    assert (
        "MONITOR ERROR: cannot read this shipper: ShipperNotExist" in result["messages"][0]["text"]
    )


def test_wildcards_expand_to_every_existing_shipper(check, sim):
    result = check(SHIPPERS="proj-a/*/* proj-a/logs/to-oss")
    names = [f"{s['logstore']}/{s['shipper']}" for s in result["shippers"]]
    assert names == ["app/to-oss", "logs/to-odps", "logs/to-oss"]  # duplicates removed
    result = check(SHIPPERS="proj-a/*/to-oss")
    assert [f"{s['logstore']}/{s['shipper']}" for s in result["shippers"]] == [
        "app/to-oss",
        "logs/to-oss",
    ]
    result = check(SHIPPERS="proj-a/logs/*")
    assert [s["shipper"] for s in result["shippers"]] == ["to-odps", "to-oss"]


def test_a_pattern_over_a_missing_project_is_a_monitor_error(check):
    result = check(SHIPPERS="proj-gone/*/* proj-a/app/*")
    second, first = result["shippers"]  # sorted by name
    assert (first["project"], first["logstore"], first["shipper"]) == ("proj-gone", "*", "*")
    assert first["error"]["code"] == "ProjectNotExist"
    assert second["shipper"] == "to-oss"
    assert second["error"] is None
    assert result["ok"] is False


def test_the_event_can_narrow_the_shippers_and_window(check, sim_clock):
    now = int(sim_clock.now())
    event = json.dumps(
        {"from": now - 3 * 3600, "to": now - 3600, "shippers": ["proj-a/logs/to-oss"]}
    )
    result = check(event.encode())
    (entry,) = result["shippers"]
    assert result["window"] == {"from": now - 3 * 3600, "to": now - 3600}
    assert entry["failedTaskIds"] == ["old-fail"]


def test_timer_payload_can_ask_for_a_dry_run(check, sim_clock):
    trigger = sim_clock.now()
    iso = dt.datetime.fromtimestamp(trigger, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = json.dumps({"triggerTime": iso, "triggerName": "t", "payload": '{"dryRun": true}'})
    result = check(event.encode(), DRY_RUN="false")  # no channel, but the payload says dry run
    assert result["dryRun"] is True
    assert result["window"]["to"] == int(trigger) - int(trigger) % 300 - 60


def test_debug_logging_never_shows_a_secret(check, caplog):
    caplog.set_level(logging.DEBUG)
    check(LOG_LEVEL="DEBUG")
    assert "GetShipperStatus GET" in caplog.text  # DEBUG lines were emitted
    for secret in (KEY_SECRET, TOKEN, KEY_ID):
        assert secret not in caplog.text


def test_run_returns_the_outcome_for_the_command_line(env, sim_clock):
    outcome = run(
        b"",
        None,
        {
            **env,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET,
            "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
        },
        now=sim_clock.now,
    )
    assert outcome.report.totals.failed == 3
    assert outcome.undelivered is False  # dry run


def test_a_dry_run_shows_the_webhook_document_indented(check):
    result = check(WEBHOOK_URL="https://hooks.example.com/in/token")
    (message,) = result["messages"]
    assert message["channel"] == "webhook"
    document = json.loads(message["text"])
    assert document["title"] == message["title"]
    assert message["text"] == json.dumps(document, ensure_ascii=False, indent=2)


def test_a_stall_older_than_lookback_keeps_its_reminder_schedule(check, sim, sim_clock):
    # The newest task is 3h05m old: first notice 2h05m ago (STALL_TIMEOUT 1h), reminders
    # hourly after that, so one falls 5 minutes ago, inside the latest window. LOOKBACK is
    # 2h, so the newest task has to be found by a second, older read.
    sim.scenario.add_shipper(
        "proj-a",
        "logs",
        "quiet",
        tasks=[
            {
                "id": "last",
                "created": int(sim_clock.now()) - 3 * 3600 - 300,
                "status": "success",
                "finished": int(sim_clock.now()) - 3 * 3600 - 200,
            },
        ],
    )
    result = check(SHIPPERS="proj-a/logs/quiet", STALL_TIMEOUT="1h", LOOKBACK="2h")
    (entry,) = result["shippers"]
    assert entry["stalled"] is True
    text = result["messages"][0]["text"]
    assert "STALLED: no new task since" in text
    assert "(reminder)" in text
    reads = [r.params for r in sim.received if r.api == "GetShipperStatus"]
    now = int(sim_clock.now())
    assert [(int(p["from"]), int(p["to"])) for p in reads] == [
        # the window, the one before it (judged for resolved) and their lookback
        (now - 660 - 7200, now - 60),
        (now - 48 * 3600 + 300, now - 660 - 7200),  # the probe, inside the 48 hours
    ]


def test_a_stall_is_not_repeated_between_reminders(check, sim, sim_clock):
    sim.scenario.add_shipper(
        "proj-a",
        "logs",
        "quiet",
        tasks=[
            {
                "id": "last",
                "created": int(sim_clock.now()) - 3 * 3600 - 900,
                "status": "success",
                "finished": int(sim_clock.now()) - 3 * 3600 - 800,
            },
        ],
    )
    result = check(SHIPPERS="proj-a/logs/quiet", STALL_TIMEOUT="1h", LOOKBACK="2h")
    assert result["shippers"][0]["stalled"] is False
    assert result["messages"] == []
