"""Scenario files, task histories, faults and clocks of the SLS simulator, without a network.

(The server's own behaviour is tested over loopback in tests/integration/test_sim_server.py.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from shipper_alert_dev.sim import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Fault,
    FaultError,
    Scenario,
    ScenarioError,
    SimClock,
    TaskSpec,
    TaskState,
    parse_duration,
    parse_instant,
)
from shipper_alert_dev.sim.faults import FaultSet
from shipper_alert_dev.sim.scenario import ShipperSpec, parse_offset, resolve_time
from shipper_alert_dev.sim.shipper_api import get_shipper_status

REPO = Path(__file__).resolve().parents[2]
NOW = 1_764_316_800  # 2025-11-28T08:00:00Z
MINUTE = 60
HOUR = 3600


def one_shipper(**shipper: Any) -> dict[str, Any]:
    return {
        "projects": [
            {"name": "p", "logstores": [{"name": "l", "shippers": [{"name": "s", **shipper}]}]}
        ]
    }


def load_problems(data: Any) -> list[str]:
    with pytest.raises(ScenarioError) as raised:
        Scenario.load(data, now=NOW)
    return raised.value.problems


# --- durations and times ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        (90, 90),
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1d2h3m4s", 93784),
        ("0", 0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m", "1.5h", "-5m", "5m1h", True, None, -3])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("-2h", -7200), ("+5m", 300), ("-90", -90), ("30m", 1800), (15, 15)]
)
def test_parse_offset(text, seconds):
    assert parse_offset(text) == seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-2h", NOW - 7200),
        ("+1h30m", NOW + 5400),
        ("-90", NOW - 90),
        ("-2d", NOW - 172800),
        (1_700_000_000, 1_700_000_000),
        ("2025-11-28T07:00:00Z", NOW - 3600),
        ("2025-11-28T16:00:00+08:00", NOW),
    ],
)
def test_resolve_time(value, expected):
    assert resolve_time(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1764316800", NOW),
        (NOW, NOW),
        ("2025-11-28T08:00:00Z", NOW),
        ("2025-11-28T08:00:00", NOW),
        ("2025-11-28 16:00:00+08:00", NOW),
    ],
)
def test_parse_instant(value, expected):
    assert parse_instant(value) == expected


# --- task histories --------------------------------------------------------------------


def test_a_task_is_invisible_before_creation_and_running_until_its_finish():
    task = TaskSpec("t", NOW, "fail", NOW + 120, message="boom", code="Boom")
    assert task.view(NOW - 1) is None
    running = task.view(NOW + 119)
    assert running is not None
    assert running.to_json() == {
        "id": "t",
        "taskStatus": "running",
        "taskMessage": "",
        "taskCreateTime": NOW,
        "taskLastDataReceiveTime": NOW,
        "taskFinishTime": 0,
        "taskCode": None,
    }
    failed = task.view(NOW + 120)
    assert failed is not None
    assert (failed.status, failed.message, failed.code) == ("fail", "boom", "Boom")
    assert (failed.finish_time, failed.last_data_receive_time) == (NOW + 120, NOW + 120)


def test_an_explicit_last_data_receive_time_is_kept():
    task = TaskSpec("t", NOW, "success", NOW + 60, last_data_receive=NOW + 30)
    view = task.view(NOW + 600)
    assert view is not None
    assert view.last_data_receive_time == NOW + 30


def test_the_last_state_at_or_before_the_clock_wins():
    task = TaskSpec(
        "t",
        NOW,
        "fail",
        NOW + 60,
        message="first",
        states=[
            TaskState(NOW + 900, "running"),
            TaskState(NOW + 1000, "success"),
        ],
    )

    def status_at(t: int) -> tuple[str, int]:
        view = task.view(t)
        assert view is not None
        return view.status, view.finish_time

    assert status_at(NOW + 899) == ("fail", NOW + 60)
    assert status_at(NOW + 900) == ("running", 0)
    assert status_at(NOW + 1000) == ("success", NOW + 1000)


def test_retry_only_affects_a_failed_task():
    failed = TaskSpec("f", NOW, "fail", NOW + 60, message="m", code="C", retry_duration=120)
    assert failed.retry(NOW + 100) is True
    assert failed.view(NOW + 100).status == "running"  # type: ignore[union-attr]
    assert failed.view(NOW + 219).status == "running"  # type: ignore[union-attr]
    done = failed.view(NOW + 220)
    assert done is not None
    assert (done.status, done.message, done.code, done.finish_time) == (
        "success",
        "",
        None,
        NOW + 220,
    )
    assert failed.view(NOW + 99).status == "fail"  # type: ignore[union-attr]  # history kept

    succeeded = TaskSpec("s", NOW, "success", NOW + 60)
    assert succeeded.retry(NOW + 100) is False
    assert succeeded.history == []
    running = TaskSpec("r", NOW, "running")
    assert running.retry(NOW + 100) is False
    not_yet = TaskSpec("n", NOW + 500, "fail", NOW + 560)
    assert not_yet.retry(NOW + 100) is False


def test_a_view_asked_again_at_any_instant_is_the_one_made_afresh():
    def tasks() -> list[TaskSpec]:
        return [
            TaskSpec("f", NOW, "fail", NOW + 60, message="m", code="C", retry_duration=120),
            TaskSpec("r", NOW, "running"),
            TaskSpec(
                "s",
                NOW + 5,
                "success",
                NOW + 30,
                states=[TaskState(NOW + 90, "running"), TaskState(NOW + 150, "fail", "late")],
            ),
        ]

    kept = tasks()
    instants = [NOW + t for t in range(-3, 400)] + [NOW + 59.5, NOW + 60.0, NOW - 0.5]
    for at in [*instants, *reversed(instants)]:
        assert [task.view(at) for task in kept] == [task.view(at) for task in tasks()], at
    kept[0].retry(NOW + 100)
    fresh = tasks()
    fresh[0].retry(NOW + 100)
    for at in [NOW + 99, NOW + 100, NOW + 219, NOW + 220, NOW + 99]:
        assert kept[0].view(at) == fresh[0].view(at), at


def test_a_page_body_is_what_json_dumps_writes_for_the_whole_document():
    shipper = ShipperSpec("s")
    shipper.add_task(TaskSpec("é-1", NOW, "fail", NOW + 60, message='写入失败 "quoted"', code="C"))
    shipper.add_task(TaskSpec("ok", NOW + 1, "success", NOW + 30))
    shipper.add_task(TaskSpec("run", NOW + 2, "running"))
    params = {"from": str(NOW), "to": str(NOW + 10), "offset": "1", "size": "2"}

    body = get_shipper_status(shipper, params, NOW + 100).body

    views = shipper.views(NOW + 100, NOW, NOW + 10)
    document = {
        "count": 2,
        "total": 3,
        "statistics": {"running": 1, "success": 1, "fail": 1},
        "tasks": [v.to_json() for v in views[1:3]],
    }
    assert body == json.dumps(document, ensure_ascii=False).encode("utf-8")
    failed_only = get_shipper_status(
        shipper, {**params, "status": "fail", "offset": "0"}, NOW + 100
    )
    assert json.loads(failed_only.body)["tasks"] == [
        v.to_json() for v in views if v.status == "fail"
    ]


def test_views_within_one_second_follow_retries_and_new_tasks():
    shipper = ShipperSpec("s")
    task = shipper.add_task(TaskSpec("f", NOW, "fail", NOW + 60, message="m"))
    assert [v.status for v in shipper.views(NOW + 100.2, NOW, NOW + 200)] == ["fail"]
    task.retry(NOW + 100)
    assert [v.status for v in shipper.views(NOW + 100.7, NOW, NOW + 200)] == ["running"]
    shipper.add_task(TaskSpec("g", NOW + 50, "success", NOW + 90))
    assert sorted(v.id for v in shipper.views(NOW + 100.9, NOW, NOW + 200)) == ["f", "g"]
    assert shipper.views(NOW + 100.9, NOW, NOW + 40)[0].id == "f"


def test_retry_can_fail_again_with_the_same_message():
    task = TaskSpec(
        "t", NOW, "fail", NOW + 60, message="denied", code="UnAuthorized", after_retry="fail"
    )
    task.retry(NOW + 100)
    view = task.view(NOW + 100 + 300)
    assert view is not None
    assert (view.status, view.message, view.code, view.finish_time) == (
        "fail",
        "denied",
        "UnAuthorized",
        NOW + 400,
    )


def test_tasks_of_a_file_with_states_and_defaults():
    data = one_shipper(
        tasks=[
            {
                "id": "t-1",
                "created": "-2h",
                "status": "fail",
                "finished": "-1h55m",
                "message": "UnAuthorized",
                "taskCode": "UnAuthorized",
                "lastDataReceive": "-1h56m",
                "afterRetry": "success",
                "states": [
                    {"at": "+25m", "status": "running"},
                    {"at": "+27m", "status": "fail"},
                    {"at": "+40m", "status": "fail", "message": "other", "taskCode": None},
                    {"at": "+45m", "status": "success"},
                ],
            }
        ]
    )
    scenario = Scenario.load(data, now=NOW)
    task = scenario.task("p", "l", "s", "t-1")
    assert task is not None
    created = NOW - 2 * HOUR
    assert task.created == created
    assert task.finished == NOW - 115 * MINUTE
    assert task.last_data_receive == NOW - 116 * MINUTE
    assert task.history == [
        TaskState(created + 25 * MINUTE, "running", "", None),
        TaskState(created + 27 * MINUTE, "fail", "UnAuthorized", "UnAuthorized"),
        TaskState(created + 40 * MINUTE, "fail", "other", None),
        TaskState(created + 45 * MINUTE, "success", "", None),
    ]


def test_generate_makes_regular_tasks_with_every_nth_failing():
    data = one_shipper(
        generate=[
            {
                "start": "-1h",
                "every": "5m",
                "count": 12,
                "duration": "3m",
                "failEvery": 4,
                "failMessage": "NoSuchPartition",
                "failCode": "NoSuchPartition",
            },
            {"start": "-10m", "every": "10m", "count": 2, "status": "running", "idPrefix": "r"},
        ]
    )
    shipper = Scenario.load(data, now=NOW).shipper("p", "l", "s")
    assert shipper is not None
    assert len(shipper.tasks) == 14
    first, fourth = shipper.tasks["s-gen0-0"], shipper.tasks["s-gen0-3"]
    assert (first.created, first.finished, first.status) == (
        NOW - HOUR,
        NOW - HOUR + 180,
        "success",
    )
    assert (fourth.status, fourth.message, fourth.code) == (
        "fail",
        "NoSuchPartition",
        "NoSuchPartition",
    )
    failing = sorted(t.id for t in shipper.tasks.values() if t.status == "fail")
    assert failing == ["s-gen0-11", "s-gen0-3", "s-gen0-7"]
    assert (shipper.tasks["r-1"].created, shipper.tasks["r-1"].status) == (NOW, "running")
    assert shipper.tasks["r-1"].finished == 0


def test_views_filter_creation_time_inclusively_in_hash_order():
    scenario = Scenario.load(
        one_shipper(generate=[{"start": "-50m", "every": "1m", "count": 50, "idPrefix": "g"}]),
        now=NOW,
    )
    shipper = scenario.shipper("p", "l", "s")
    assert shipper is not None
    views = shipper.views(NOW, NOW - 40 * MINUTE, NOW - 30 * MINUTE)
    assert sorted(v.create_time for v in views) == [NOW - m * MINUTE for m in range(40, 29, -1)]
    order = [v.id for v in views]
    assert order == [v.id for v in shipper.views(NOW + 5, NOW - 40 * MINUTE, NOW - 30 * MINUTE)]
    assert order != [v.id for v in sorted(views, key=lambda v: v.create_time)]


def test_credentials_default_to_the_simulator_pair():
    assert (
        Scenario.load({}, now=NOW).accepted_credentials()[0].access_key_id == DEFAULT_ACCESS_KEY_ID
    )
    assert Scenario().accepted_credentials()[0].access_key_secret == DEFAULT_ACCESS_KEY_SECRET
    own = Scenario.load(
        {
            "credentials": [
                {"accessKeyId": "key-a", "accessKeySecret": "secret-b", "securityToken": "token-c"}
            ]
        },
        now=NOW,
    )
    [credential] = own.accepted_credentials()
    assert (credential.access_key_id, credential.access_key_secret, credential.security_token) == (
        "key-a",
        "secret-b",
        "token-c",
    )
    assert "secret-b" not in repr(credential)
    assert "token-c" not in repr(credential)


def test_building_a_scenario_in_python():
    scenario = Scenario(NOW)
    scenario.add_shipper(
        "p",
        "l",
        "s",
        tasks=[{"id": "a", "created": "-5m", "status": "running"}, TaskSpec("b", NOW, "running")],
        generate=[{"start": "-1h", "every": "30m", "count": 2}],
    )
    scenario.add_tasks(
        "p", "l", "s", [{"id": "c", "created": "-1m", "status": "running"}], now=NOW + HOUR
    )
    scenario.add_credential("id", "secret")
    assert scenario.shipper_paths() == ["p/l/s"]
    assert sorted(scenario.shipper("p", "l", "s").tasks) == ["a", "b", "c", "s-gen0-0", "s-gen0-1"]  # type: ignore[union-attr]
    assert scenario.task("p", "l", "s", "c").created == NOW + HOUR - 60  # type: ignore[union-attr]
    assert [c.access_key_id for c in scenario.accepted_credentials()] == ["id"]
    with pytest.raises(ScenarioError, match="'a' is used twice"):
        scenario.add_tasks("p", "l", "s", [{"id": "a", "created": "-1m", "status": "running"}])
    with pytest.raises(ScenarioError, match=r"tasks\[0\]\.status: required"):
        scenario.add_tasks("p", "l", "s", [{"id": "z", "created": "-1m"}])
    with pytest.raises(ScenarioError, match=r"project name 'a\.b'"):
        scenario.add_shipper("a.b", "l", "s")


# --- validation ------------------------------------------------------------------------


SHIPPER_PATH = "projects[0].logstores[0].shippers[0]"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "scenario: must be an object, not list"),
        ({"project": []}, "project: unknown field"),
        ({"projects": {}}, "projects: must be a list"),
        (
            {"projects": [{"name": "a.b"}]},
            "projects[0].name: may only hold letters, digits, '-' and '_'",
        ),
        ({"projects": [{}]}, "projects[0].name: must be a non-empty string"),
        (
            {"projects": [{"name": "p"}, {"name": "p"}]},
            "projects[1].name: 'p' is already used by projects[0]",
        ),
        (
            {"projects": [{"name": "p", "logstores": [{"name": "l", "shipers": []}]}]},
            "projects[0].logstores[0].shipers: unknown field",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "yesterday", "status": "fail", "finished": "-1h"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].created: not a time: 'yesterday'",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "-1h", "status": "failed", "finished": "-1h"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].status: must be one of success, fail, running, not 'failed'",
        ),
        (
            one_shipper(tasks=[{"id": "t", "created": "-1h", "status": "fail"}]),
            f"{SHIPPER_PATH}.tasks[0].finished: required unless the status is running",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "-1h", "status": "running", "finished": "-1m"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].finished: a running task has no finish time",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "-1h", "status": "success", "finished": "-2h"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].finished: is before the creation time",
        ),
        (
            one_shipper(tasks=[{"created": "-1h", "status": "running"}]),
            f"{SHIPPER_PATH}.tasks[0].id: required",
        ),
        (
            one_shipper(tasks=[{"id": 5, "created": "-1h", "status": "running"}]),
            f"{SHIPPER_PATH}.tasks[0].id: must be a string, not 5",
        ),
        (
            one_shipper(
                tasks=[
                    {"id": "t", "created": "-1h", "status": "running"},
                    {"id": "t", "created": "-1h", "status": "running"},
                ]
            ),
            f"{SHIPPER_PATH}.tasks[1]: task id 't' is used twice in this shipper",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "-1h", "status": "running", "colour": "red"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].colour: unknown field",
        ),
        (
            one_shipper(tasks=[{"id": "t", "created": "-1h", "status": "running", "message": 3}]),
            f"{SHIPPER_PATH}.tasks[0].message: must be a string, not 3",
        ),
        (
            one_shipper(
                tasks=[{"id": "t", "created": "-1h", "status": "running", "retryDuration": "soon"}]
            ),
            f"{SHIPPER_PATH}.tasks[0].retryDuration: not a duration: 'soon'",
        ),
        (
            one_shipper(
                tasks=[
                    {
                        "id": "t",
                        "created": "-1h",
                        "status": "fail",
                        "finished": "-50m",
                        "states": [{"at": "+5m", "status": "success"}],
                    }
                ]
            ),
            f"{SHIPPER_PATH}.tasks[0].states[0].at: must not be before the task's first finish",
        ),
        (
            one_shipper(
                tasks=[
                    {
                        "id": "t",
                        "created": "-1h",
                        "status": "running",
                        "states": [
                            {"at": "+20m", "status": "fail"},
                            {"at": "+10m", "status": "success"},
                        ],
                    }
                ]
            ),
            f"{SHIPPER_PATH}.tasks[0].states[1].at: states must be in increasing order of 'at'",
        ),
        (
            one_shipper(
                tasks=[
                    {"id": "t", "created": "-1h", "status": "running", "states": [{"at": "+5m"}]}
                ]
            ),
            f"{SHIPPER_PATH}.tasks[0].states[0].status: required",
        ),
        (
            one_shipper(generate=[{"start": "-1h", "every": "0", "count": 3}]),
            f"{SHIPPER_PATH}.generate[0].every: must be more than zero",
        ),
        (
            one_shipper(generate=[{"start": "-1h", "every": "5m", "count": -1}]),
            f"{SHIPPER_PATH}.generate[0].count: must be an integer >= 0, not -1",
        ),
        (
            one_shipper(generate=[{"every": "5m", "count": 3}]),
            f"{SHIPPER_PATH}.generate[0].start: required",
        ),
        (
            one_shipper(generate=[{"start": "-1h", "every": "5m", "count": 3, "failEvery": 0}]),
            f"{SHIPPER_PATH}.generate[0].failEvery: must be an integer >= 1, not 0",
        ),
        (
            one_shipper(
                tasks=[{"id": "g-0", "created": "-1h", "status": "running"}],
                generate=[{"start": "-1h", "every": "5m", "count": 1, "idPrefix": "g"}],
            ),
            f"{SHIPPER_PATH}.generate[0]: task id 'g-0' is used twice in this shipper",
        ),
        (
            {"credentials": [{"accessKeyId": "a"}]},
            "credentials[0].accessKeySecret: required",
        ),
        ({"faults": [{"status": 500, "errorCode": 5}]}, "faults[0].errorCode: must be a string"),
        ({"faults": [{"api": "GetLogz", "status": 500}]}, "faults[0].api: must be one of"),
        ({"faults": [{"times": 2}]}, "faults[0]: does nothing; give a status, a latency or drop"),
        ({"faults": [{"status": 500, "colour": 1}]}, "faults[0].colour: unknown field"),
    ],
)
def test_validation_names_the_path_of_the_bad_field(data, problem):
    problems = load_problems(data)
    assert any(p.startswith(problem) for p in problems), problems


def test_every_problem_is_reported_at_once():
    data = one_shipper(
        tasks=[
            {"id": "a", "created": "later", "status": "fail", "finished": "-1h"},
            {"id": "b", "created": "-1h", "status": "done", "finished": "-1h"},
        ]
    )
    data["faults"] = [{"status": 99}]
    problems = load_problems(data)
    assert problems == [
        "faults[0].status: must be an HTTP status code 100..599, not 99",
        f"{SHIPPER_PATH}.tasks[0].created: not a time: 'later' (use epoch seconds or ISO-8601 "
        "like 2026-11-28T08:05:00Z)",
        f"{SHIPPER_PATH}.tasks[1].status: must be one of success, fail, running, not 'done'",
    ]
    with pytest.raises(ScenarioError) as raised:
        Scenario.load(data, now=NOW)
    assert str(raised.value).startswith("invalid scenario (3 problems):\n  faults[0].status")


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(ScenarioError, match=r"missing\.json:\n  cannot read the file"):
        Scenario.load(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"projects": [\n  {"name": "p",}\n]}')
    with pytest.raises(ScenarioError) as raised:
        Scenario.load(str(broken))
    assert raised.value.source == str(broken)
    assert raised.value.problems[0].startswith("not valid JSON: ")
    assert "line 2" in raised.value.problems[0]


def test_a_file_loads_relative_to_now(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(one_shipper(tasks=[{"id": "t", "created": "-2h", "status": "running"}]))
    )
    scenario = Scenario.load(path, now=NOW)
    assert scenario.reference_time == NOW
    assert scenario.task("p", "l", "s", "t").created == NOW - 2 * HOUR  # type: ignore[union-attr]


# --- the demo scenario -----------------------------------------------------------------


def test_demo_scenario_has_what_the_demo_needs():
    scenario = Scenario.load(REPO / "scenarios" / "demo.json", now=NOW)
    paths = scenario.shipper_paths()
    assert len({p.split("/")[1] for p in paths}) >= 2  # at least two logstores

    def views(path: str, start: int, end: int) -> list[Any]:
        shipper = scenario.shipper(*path.split("/"))
        assert shipper is not None
        return shipper.views(NOW, start, end)

    # RAM role failures in each of the last four 5-minute windows (by finish time).
    ram = "shop-prod/nginx-access/oss-archive"
    for window_end in range(NOW, NOW - 20 * MINUTE, -5 * MINUTE):
        failed = [
            v
            for v in views(ram, NOW - HOUR, NOW)
            if v.status == "fail" and window_end - 5 * MINUTE <= v.finish_time < window_end
        ]
        assert failed, f"no failure in the window ending {window_end - NOW}s from now"
        assert all(v.code == "UnAuthorized" for v in failed)
        assert all("role" in v.message and "no permission" in v.message for v in failed)

    odps = [
        v
        for v in views("shop-prod/nginx-access/odps-sync", NOW - 6 * HOUR, NOW)
        if v.status == "fail"
    ]
    assert odps
    assert all("partition" in v.message.lower() for v in odps)

    # make demo runs with RUNNING_TIMEOUT=3h and STALL_TIMEOUT=3h: the long task turns
    # stuck, and the shipper stalled, 8 minutes before the start, inside the demo's windows.
    stuck = views("shop-prod/app-log/oss-stuck", NOW - 6 * HOUR, NOW)
    (running,) = [v for v in stuck if v.status == "running"]
    assert NOW - running.create_time == 3 * HOUR + 8 * MINUTE
    assert max(v.create_time for v in stuck) == running.create_time  # no task since

    healthy = views("shop-prod/app-log/oss-backup", NOW - 6 * HOUR, NOW)
    assert len(healthy) >= 60
    assert {v.status for v in healthy} <= {"success", "running"}


# --- faults ----------------------------------------------------------------------------


def test_fault_needs_to_do_something_and_be_consistent():
    with pytest.raises(FaultError, match="does nothing"):
        Fault()
    with pytest.raises(FaultError, match="give only one of errorCode, body, json"):
        Fault(status=500, error_code="X", body="y")
    with pytest.raises(FaultError, match=r"fault\.drop: a dropped connection has no status"):
        Fault(drop=True, status=500)
    with pytest.raises(FaultError, match=r"fault\.status: required with body"):
        Fault(body="x", latency=1)
    with pytest.raises(FaultError, match=r"fault\.times: must be a positive integer or null"):
        Fault(status=500, times=0)
    assert Fault(latency=0.5).times == 1
    assert Fault.from_dict({"drop": True, "times": None}).times is None


def test_fault_set_takes_the_first_match_with_uses_left():
    faults = FaultSet()
    scoped = faults.add(Fault(status=500, shipper="a", times=2))
    anywhere = faults.add(Fault(status=503, times=None))
    assert faults.take("GetShipperStatus", "p", "l", "b") is anywhere.fault
    assert faults.take("GetShipperStatus", "p", "l", "a") is scoped.fault
    assert faults.take("GetShipperStatus", "p", "l", "a") is scoped.fault
    assert faults.take("GetShipperStatus", "p", "l", "a") is anywhere.fault
    assert (scoped.hits, scoped.remaining, anywhere.hits) == (2, 0, 2)
    faults.clear()
    assert faults.take("GetShipperStatus", "p", "l", "a") is None


# --- clocks ----------------------------------------------------------------------------


def test_sim_clock_stands_still_until_moved():
    clock = SimClock(NOW)
    assert clock.now() == NOW
    assert clock.advance(90) == NOW + 90
    clock.set(NOW - 5)
    assert clock.now() == NOW - 5


def test_sim_clock_defaults_to_the_real_time_and_can_tick():
    before = time.time()
    assert before <= SimClock().now() <= time.time()
    ticking = SimClock(NOW, ticking=True)
    first = ticking.now()
    assert first >= NOW
    assert ticking.advance(3600) >= NOW + 3600
    assert ticking.now() >= first + 3600
