"""Timer checks with a ledger (STATE_URL), through index.handler, the SLS simulator, the
Slack stand-in and the OSS stand-in: exactly once across repeated, skipped, failed and
overlapping checks, and the stateless fallback when the ledger cannot be read.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from types import SimpleNamespace

import pytest

import index
from factories import one_shipper_scenario
from shipper_alert.errors import NotDeliveredError
from shipper_alert_dev.sim.scenario import TaskSpec
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.oss import OssStandIn
from shipper_alert_dev.standins.slack import SlackStandIn

KEY_ID = "LTAI-ledger-handler"
KEY_SECRET = "ledger-handler-secret"
TOKEN = "ledger-handler-sts-token"
SHIPPER = ("proj-a", "logs", "to-oss")


def failed(task_id, created, finished, code="UnAuthorized"):
    return {
        "id": task_id,
        "created": created,
        "status": "fail",
        "finished": finished,
        "message": f"{code}: cannot write",
        "taskCode": code,
    }


SCENARIO = one_shipper_scenario(
    KEY_ID, KEY_SECRET, TOKEN, [failed("f-1", "-20m", "-4m"), failed("f-2", "-10m", "-3m")]
)


def context():
    return SimpleNamespace(
        request_id="req-1",
        region="cn-hangzhou",
        function=SimpleNamespace(name="shipper-alert", timeout=60, handler="index.handler"),
        credentials=SimpleNamespace(
            access_key_id=KEY_ID, access_key_secret=KEY_SECRET, security_token=TOKEN
        ),
    )


@pytest.fixture
def slack():
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def oss():
    with OssStandIn("alert-state", KEY_ID, KEY_SECRET, security_token=TOKEN) as server:
        yield server


@pytest.fixture(params=["file", "oss"])
def state_url(request, tmp_path, oss):
    if request.param == "file":
        return f"file://{tmp_path}/ledger"
    return f"oss://alert-state/alerts?endpoint={oss.url}"


@pytest.fixture
def sim(sls_sim):
    return sls_sim(SCENARIO)


@pytest.fixture
def timer(sim, slack, state_url, sim_clock, monkeypatch, tmp_path):
    environment = {
        "TMPDIR": str(tmp_path),  # the reminder state's directory
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "/".join(SHIPPER),
        "SLACK_WEBHOOK_URL": slack.webhook_url,
        "STATE_URL": state_url,
    }
    monkeypatch.setattr("os.environ", environment)
    monkeypatch.setattr("time.time", sim_clock.now)

    def trigger(at=None):
        moment = dt.datetime.fromtimestamp(at or sim_clock.now(), dt.timezone.utc)
        event = {"triggerTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "triggerName": "every-5m"}
        return json.loads(index.handler(json.dumps(event).encode(), context()))

    return trigger


def texts(slack):
    """Each message Slack took, as its JSON text (summary and blocks)."""
    return [json.dumps(message, ensure_ascii=False) for message in slack.messages()]


def add(sim, *tasks):
    sim.scenario.add_tasks(*SHIPPER, tasks=[TaskSpec(**t) for t in tasks])


def test_first_breach_fires_and_a_repeated_trigger_sends_nothing_new(timer, slack):
    first = timer()
    assert first["policy"]["mode"] == "ledger"
    (entry,) = first["shippers"]
    assert (entry["state"], entry["failedTaskIds"], entry["held"]) == ("FIRING", ["f-1", "f-2"], 0)
    assert len(texts(slack)) == 1
    assert "FIRING" in texts(slack)[0]
    again = timer()
    assert again["policy"] == {
        "mode": "repeat",
        "windows": 0,
        "note": f"window already checked (ledger checked through {first['window']['to']})",
    }
    assert len(texts(slack)) == 1


def test_later_failures_of_a_known_cause_are_held_and_a_new_cause_sends_at_once(
    timer, slack, sim, sim_clock
):
    now = int(sim_clock.now())
    timer()
    add(
        sim,
        {
            "id": "f-3",
            "created": now - 60,
            "status": "fail",
            "finished": now + 60,
            "message": "UnAuthorized: cannot write",
            "code": "UnAuthorized",
        },
    )
    sim_clock.advance(300)
    held = timer()
    assert (held["shippers"][0]["failedTaskIds"], held["held"]) == (["f-3"], 1)
    assert len(texts(slack)) == 1
    add(
        sim,
        {
            "id": "b-1",
            "created": now + 200,
            "status": "fail",
            "finished": now + 400,
            "message": "InvalidOssBucket",
            "code": "InvalidOssBucket",
        },
    )
    sim_clock.advance(300)
    sent = timer()
    assert (sent["shippers"][0]["state"], sent["held"]) == ("STILL FAILING", 0)
    assert len(texts(slack)) == 2
    assert "f-3" in texts(slack)[1]
    assert "b-1" in texts(slack)[1]
    assert "f-1" not in texts(slack)[1]


def test_what_was_not_delivered_stays_pending_for_the_next_check(timer, slack, sim_clock):
    slack.fail_next(Reply(400, "invalid_payload"))
    with pytest.raises(NotDeliveredError):
        timer()
    sim_clock.advance(300)
    caught_up = timer()
    assert caught_up["policy"]["mode"] == "ledger"
    assert caught_up["policy"]["windows"] == 2  # the undelivered window and this one
    assert caught_up["shippers"][0]["failedTaskIds"] == ["f-1", "f-2"]
    (text,) = texts(slack)
    assert "f-1" in text
    assert "f-2" in text


def test_a_skipped_trigger_is_caught_up(timer, slack, sim, sim_clock):
    now = int(sim_clock.now())
    timer()
    add(
        sim,
        {
            "id": "skip-1",
            "created": now,
            "status": "fail",
            "finished": now + 30,
            "message": "ConfigNotExist",
            "code": "ConfigNotExist",
        },
    )
    sim_clock.advance(900)  # the two triggers between were lost
    caught_up = timer()
    assert caught_up["policy"]["windows"] == 3
    assert caught_up["shippers"][0]["failedTaskIds"] == ["skip-1"]
    assert "skip-1" in texts(slack)[-1]


def test_overlapping_invocations_send_each_finding_once(timer, slack):
    results = []
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        results.append(timer())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["policy"]["mode"] for r in results).count("ledger") == 1
    assert len(texts(slack)) == 1


def test_an_unreadable_ledger_falls_back_to_stateless_and_says_so(
    timer, slack, state_url, oss, tmp_path
):
    if state_url.startswith("file://"):
        (tmp_path / "ledger").mkdir()
        (tmp_path / "ledger" / "state.json").write_text("{not json")
        where = f"file://{tmp_path}/ledger"
    else:
        oss.objects["alerts/state.json"] = b'{"version": 99}'
        where = "oss://alert-state/alerts"
    result = timer()
    reason = (
        "the ledger is not a valid document (JSONDecodeError)"
        if state_url.startswith("file://")
        else "the ledger has version 99, expected 1"
    )
    note = f"the ledger {where} cannot be read ({reason}); stateless rules used"
    assert result["policy"] == {"mode": "stateless", "windows": 38, "note": note}
    # The message says so too (Slack's mrkdwn escaping aside, the reason is verbatim).
    assert f"cannot be read ({reason}); stateless rules used" in texts(slack)[0]


def test_a_dry_run_reads_the_ledger_but_never_claims_or_writes_it(
    timer, slack, state_url, oss, tmp_path, monkeypatch
):
    import os  # noqa: PLC0415 - the fixture replaced os.environ with its own dict

    monkeypatch.setitem(os.environ, "DRY_RUN", "true")
    first, second = timer(), timer()
    assert [first["policy"]["mode"], second["policy"]["mode"]] == ["ledger", "ledger"]
    assert first["shippers"][0]["state"] == second["shippers"][0]["state"] == "FIRING"
    assert slack.messages() == []
    if state_url.startswith("file://"):
        assert not (tmp_path / "ledger").exists()
    else:
        assert oss.objects == {}
