"""Exactly once, over a simulated day of consecutive timer checks.

A seeded scenario holds thousands of tasks of many durations: successes, permanent
failures, failures that SLS's own retry later flips to success, failures retried and
failing again, tasks stuck running, slow tasks. The simulator's clock is moved to each
5-minute trigger (plus jitter) and the real handler runs a timer check over real HTTP.
The expected findings are derived from how each task was built, not from the evaluator.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass, field

import pytest

from shipper_alert.handler import run
from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, SimClock

T0 = 1795852800  # 2026-11-28T08:00:00Z, the first trigger
INTERVAL = 300
SETTLE = 60
RUNNING_TIMEOUT = 3600
DAY = 24 * 3600
CHECKS = DAY // INTERVAL + 1  # triggers T0, T0+5m, ..., T0+24h
FIRST_WINDOW_START = T0 - SETTLE - INTERVAL
LAST_WINDOW_END = T0 + (CHECKS - 1) * INTERVAL - SETTLE

pytestmark = pytest.mark.slow  # a simulated day of checks: `make test-fast` leaves it out


def covered(instant: int) -> bool:
    return FIRST_WINDOW_START <= instant < LAST_WINDOW_END


@dataclass
class Expectation:
    tasks: list[dict] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    stuck: set[str] = field(default_factory=set)

    def add(self, task: dict, *, failed_at: int | None = None, stuck_at: int | None = None) -> None:
        self.tasks.append(task)
        if failed_at is not None and covered(failed_at):
            self.failed.add(task["id"])
        if stuck_at is not None and covered(stuck_at):
            self.stuck.add(task["id"])


def build_day(seed: int, grace: int) -> Expectation:
    """Tasks created from 6 h before the first check to 4 h before the last one."""
    rng = random.Random(seed)
    day = Expectation()
    for number in range(2600):
        created = T0 - 6 * 3600 + rng.randrange(0, DAY + 2 * 3600)
        kind = rng.choice(
            ["ok", "ok", "ok", "fail", "flip", "refail", "stuck", "slow", "slowfail", "late"]
        )
        task_id = f"{kind}-{number}"
        quick = rng.randrange(20, 40 * 60)  # 20 s .. 40 min
        if kind == "ok":
            day.add(
                {
                    "id": task_id,
                    "created": created,
                    "status": "success",
                    "finished": created + quick,
                }
            )
        elif kind == "fail":  # fails and stays failed
            finish = created + quick
            day.add(
                {
                    "id": task_id,
                    "created": created,
                    "status": "fail",
                    "finished": finish,
                    "message": rng.choice(["UnAuthorized", "InvalidOssBucket", "ConfigNotExist"]),
                },
                failed_at=max(finish, created + grace),
            )
        elif kind == "flip":  # fails; SLS retries it 15-60 min later and it succeeds
            finish = created + quick
            back = finish - created + rng.randrange(15 * 60, 60 * 60)
            if RUNNING_TIMEOUT - 900 < back < RUNNING_TIMEOUT + 900:
                # Re-running across creation + RUNNING_TIMEOUT would make it (rightly) stuck;
                # keep this kind about failures only.
                back = RUNNING_TIMEOUT + 900
            task = {
                "id": task_id,
                "created": created,
                "status": "fail",
                "finished": finish,
                "message": "InternalServerError",
                "states": [
                    {"at": back, "status": "running"},
                    {"at": back + 120, "status": "success"},
                ],
            }
            alert = max(finish, created + grace)
            # Reported only if still failed when the window holding its alert time is
            # checked (at most INTERVAL + SETTLE + jitter after it).
            still_failed = created + back > alert + INTERVAL + SETTLE + 60
            day.add(task, failed_at=alert if still_failed else None)
        elif kind == "refail":  # fails, is retried 15 min later, fails again 5 min after
            finish = created + rng.randrange(20, 10 * 60)
            retry = finish - created + 15 * 60
            task = {
                "id": task_id,
                "created": created,
                "status": "fail",
                "finished": finish,
                "message": "NoSuchPartition",
                "states": [
                    {"at": retry, "status": "running"},
                    {"at": retry + 300, "status": "fail"},
                ],
            }
            if grace < retry + 300 + INTERVAL + SETTLE + 60:
                # Without a grace covering both failures, each failure episode is a finding
                # of its own; such tasks are left out of this once-per-id count.
                continue
            # Both failures lie inside the grace: one report, at creation + grace.
            day.add(task, failed_at=created + grace)
        elif kind == "stuck":  # never finishes
            day.add(
                {"id": task_id, "created": created, "status": "running"},
                stuck_at=created + RUNNING_TIMEOUT,
            )
        elif kind == "slow":  # runs well past the timeout, then succeeds
            finish = created + RUNNING_TIMEOUT + rng.randrange(15 * 60, 3 * 3600)
            day.add(
                {"id": task_id, "created": created, "status": "success", "finished": finish},
                stuck_at=created + RUNNING_TIMEOUT,
            )
        elif kind == "slowfail":  # runs past the timeout, then fails: stuck and failed
            finish = created + RUNNING_TIMEOUT + rng.randrange(15 * 60, 3 * 3600)
            day.add(
                {
                    "id": task_id,
                    "created": created,
                    "status": "fail",
                    "finished": finish,
                    "message": "FlowExceeded",
                },
                failed_at=max(finish, created + grace),
                stuck_at=created + RUNNING_TIMEOUT,
            )
        elif kind == "late":  # finishes just under the timeout: neither stuck nor slow
            finish = created + RUNNING_TIMEOUT - rng.randrange(10 * 60, 30 * 60)
            day.add({"id": task_id, "created": created, "status": "success", "finished": finish})
    # Tasks failing exactly on window boundaries.
    for k in range(5):
        edge = T0 + 3600 * (k + 1) - SETTLE  # a window start
        for offset in (-1, 0, 1):
            task = {
                "id": f"edge-{k}{offset:+d}",
                "created": edge - 600,
                "status": "fail",
                "finished": edge + offset,
                "message": "UnAuthorized",
            }
            day.add(task, failed_at=max(edge + offset, edge - 600 + grace))
    return day


def run_day(sls_sim, day: Expectation, grace: int, tmp_path) -> tuple[Counter, Counter]:
    clock = SimClock(T0 - 2 * 3600)
    scenario = {
        "projects": [
            {
                "name": "proj-day",
                "logstores": [
                    {"name": "logs", "shippers": [{"name": "to-oss", "tasks": day.tasks}]}
                ],
            }
        ]
    }
    sim = sls_sim(scenario, clock=clock)
    env = {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj-day/logs/to-oss",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
        "DRY_RUN": "true",
        "RUNNING_TIMEOUT": "1h",
        "FAIL_GRACE": str(grace),
        "LOOKBACK": "6h",
        "TMPDIR": str(tmp_path),
    }
    jitter = random.Random(7)
    failed: Counter = Counter()
    stuck: Counter = Counter()
    for k in range(CHECKS):
        trigger = T0 + k * INTERVAL + jitter.randrange(0, 50)  # FC fires a little late
        clock.set(trigger)
        event = json.dumps({"triggerTime": _iso(trigger), "triggerName": "every-5m"})
        outcome = run(event.encode(), None, env, now=clock.now)
        assert outcome.result["ok"] is True, outcome.result
        (entry,) = outcome.result["shippers"]
        failed.update(entry["failedTaskIds"])
        stuck.update(entry["stuckTaskIds"])
    pages = sum(1 for r in sim.received if r.api == "GetShipperStatus")
    assert pages > CHECKS  # the lookback range needed more than one page of 500
    return failed, stuck


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("seed", "grace"), [(1, 0), (2, 3600)], ids=["no-grace", "grace-1h"])
def test_every_failed_and_stuck_task_is_reported_exactly_once(sls_sim, tmp_path, seed, grace):
    day = build_day(seed, grace)
    assert len(day.failed) > 300  # the day is not trivially small
    assert len(day.stuck) > 300
    failed, stuck = run_day(sls_sim, day, grace, tmp_path)

    assert {i: n for i, n in failed.items() if n > 1} == {}, "reported more than once"
    assert {i: n for i, n in stuck.items() if n > 1} == {}, "reported stuck more than once"
    assert set(failed) - day.failed == set(), "reported but never (still) failed"
    assert day.failed - set(failed) == set(), "failed but never reported"
    assert set(stuck) - day.stuck == set(), "reported stuck but was not"
    assert day.stuck - set(stuck) == set(), "stuck but never reported"
