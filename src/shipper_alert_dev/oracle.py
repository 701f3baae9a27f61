"""The oracle: a simulated day of timer checks against a model of SLS, scored per finding.

The model has its own retries (a failed task runs again 15, 30, 60, 60, ... minutes after
each failure; a permanent failure fails every time, with its finish time moving or kept;
a transient one recovers), retries running at checks, stuck tasks, pages that repeat a
task and come in any order, and clock skew between FC and SLS. Triggers come late, a few
seconds early, repeated and skipped; deliveries sometimes fail (ledger mode: the findings
must stay pending). Each check runs the product's own stages in process (run_checks,
the notification policy, the ledger), so only HTTP is left out.

Scored from how each task was built, never from the evaluator:
- failed/stuck `missed`: a task that stays failed (stuck), due in the scored span, that no
  delivered message carried; `duplicated`: carried by more than one delivered message;
- `transient duplicated`: a recovering failure carried more than once;
- `unpaired resolved`: a RESOLVED with no FIRING before it in the same episode.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from shipper_alert.check import run_checks
from shipper_alert.config import load_settings
from shipper_alert.events import EventSpec, resolve_window
from shipper_alert.models import (
    TASK_FAIL,
    TASK_RUNNING,
    TASK_SUCCESS,
    Columns,
    ShipperRef,
    Task,
)
from shipper_alert.policy import FIRING, RESOLVED
from shipper_alert.policy_run import PolicyRun
from shipper_alert.report import Report

DAY0 = 1795852800  # 2026-11-28T08:00:00Z
MINUTE = 60
RETRY_GAPS = (15 * MINUTE, 30 * MINUTE, 60 * MINUTE)  # then 60 min each
SHIPPER = ShipperRef("proj-a", "logs", "to-oss")


@dataclass
class Run:
    start: int
    end: int | None  # None: still running
    status: str


@dataclass
class ModelTask:
    id: str
    kind: str  # ok, permanent, transient, stuck
    created: int
    runs: list[Run]
    code: str
    moving: bool  # a failed retry moves taskFinishTime

    def view(self, t: int) -> Task | None:
        if self.created > t:
            return None
        done = [r for r in self.runs if r.start <= t]
        last = done[-1]
        if last.end is None or t < last.end:
            return Task(self.id, TASK_RUNNING, "", self.created, 0, code=None)
        finish = last.end if self.moving or last.status != TASK_FAIL else self.runs[0].end
        message = f"{self.code}: shipping failed" if last.status == TASK_FAIL else ""
        code = self.code if last.status == TASK_FAIL else None
        return Task(self.id, last.status, message, self.created, finish or 0, code=code)

    def first_failure(self) -> int | None:
        return next((r.end for r in self.runs if r.status == TASK_FAIL), None)


def build_tasks(rng: random.Random, start: int, end: int) -> list[ModelTask]:
    tasks = []
    created = start
    number = 0
    while created < end:
        number += 1
        kind = rng.choices(["ok", "permanent", "transient", "stuck"], [80, 8, 10, 2])[0]
        duration = rng.randrange(30, 40 * MINUTE)
        code = rng.choice(["UnAuthorized", "InvalidOssBucket", "ConfigNotExist"])
        runs = [Run(created, created + duration, TASK_FAIL if kind != "ok" else TASK_SUCCESS)]
        if kind == "stuck":
            runs = [Run(created, None, TASK_RUNNING)]
        recover_after = rng.randrange(1, 4) if kind == "transient" else None
        retries = 0
        while runs[-1].status == TASK_FAIL and runs[-1].end is not None:
            gap = RETRY_GAPS[min(retries, len(RETRY_GAPS) - 1)]
            begin = runs[-1].end + gap
            if begin > end + 6 * 3600:
                break
            retries += 1
            outcome = TASK_SUCCESS if recover_after == retries else TASK_FAIL
            runs.append(Run(begin, begin + rng.randrange(60, 5 * MINUTE), outcome))
        tasks.append(ModelTask(f"{kind}-{number}", kind, created, runs, code, rng.random() < 0.5))
        created += rng.randrange(2 * MINUTE, 9 * MINUTE)
    return tasks


class ModelReader:
    """A ShipperReader over the model at one instant: repeated, reordered pages (to try
    the evaluation; the timeline, which counts a repeated task again, is not checked)."""

    def __init__(self, tasks: list[ModelTask], now: int, rng: random.Random) -> None:
        self.tasks, self.now, self.rng = tasks, now, rng

    def iter_task_pages(self, project, logstore, shipper, start, end, status=""):
        views = [v for t in self.tasks if start <= t.created <= end and (v := t.view(self.now))]
        self.rng.shuffle(views)
        if views:
            views.append(self.rng.choice(views))  # a task repeated across pages
        for offset in range(0, len(views), 50):
            yield _Page(views[offset : offset + 50])

    def list_logstores(self, project):
        return [SHIPPER.logstore]

    def list_shippers(self, project, logstore):
        return [SHIPPER.shipper]

    def retry_tasks(self, *args):
        return None


@dataclass
class _Page:
    tasks: list[Task]

    @property
    def records(self) -> list[dict]:
        return [task.to_record() for task in self.tasks]

    @property
    def columns(self) -> Columns:
        return Columns.of(self.records)


@dataclass
class Score:
    mode: str
    seed: int
    messages: int = 0
    delivered_ids: Counter = field(default_factory=Counter)
    states: list = field(default_factory=list)
    failed_missed: int = 0
    failed_duplicated: int = 0
    transient_duplicated: int = 0
    stuck_missed: int = 0
    stuck_duplicated: int = 0
    unpaired_resolved: int = 0
    permanent: int = 0
    stuck: int = 0

    def row(self) -> str:
        return (
            f"{self.mode:9} seed {self.seed:3}  messages {self.messages:4}  failed: "
            f"{self.permanent:3} missed {self.failed_missed:3} duplicated "
            f"{self.failed_duplicated:3} (transient dup {self.transient_duplicated:3})  stuck: "
            f"{self.stuck:2} missed {self.stuck_missed:2} dup {self.stuck_duplicated:2}  "
            f"unpaired resolved {self.unpaired_resolved}"
        )


def simulate(
    seed: int, mode: str, hours: int = 24, env: dict | None = None, clean: bool = False
) -> Score:
    """One simulated span of timer checks; mode is 'ledger' or 'stateless'.

    `clean`: triggers on time, none skipped or repeated, no clock skew, every delivery
    succeeds (SLS still retries its tasks).
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible model, no secret
    interval = 300
    first = DAY0
    last = DAY0 + hours * 3600
    tasks = build_tasks(rng, first - 7 * 3600, last - 3 * 3600)
    with tempfile.TemporaryDirectory() as folder:
        environ = {
            "SLS_ENDPOINT": "http://127.0.0.1:1",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "oracle",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "oracle-secret",
            "SHIPPERS": str(SHIPPER),
            "RUNNING_TIMEOUT": "2h",
            "DRY_RUN": "false",
            "WEBHOOK_URL": "http://127.0.0.1:1/hook",
            **(env or {}),
        }
        if mode == "ledger":
            environ["STATE_URL"] = f"file://{Path(folder) / 'ledger'}"
        settings = load_settings(environ, None, False)
        score = Score(mode, seed)
        for scheduled in range(first, last, interval):
            if not clean and rng.random() < 0.02:
                continue  # a skipped trigger
            repeats = 2 if not clean and rng.random() < 0.02 else 1  # a repeated trigger
            for _ in range(repeats):
                jitter = 0 if clean else rng.choice([0, 0, 0, 2, 15, 40, -3])
                now = scheduled + max(jitter, 0) + rng.randrange(1, 20)
                _check(settings, tasks, scheduled + jitter, now, rng, score, mode, clean)
    _score(score, tasks, first, last - 3 * 3600, settings.rules.running_timeout or 0)
    return score


def _check(settings, tasks, trigger, now, rng, score, mode, clean) -> None:
    window = resolve_window(EventSpec("timer", trigger_time=trigger), settings.rules, now)
    skew = 0 if clean else rng.randrange(-5, 6)  # SLS's clock against FC's
    policy = PolicyRun.start(settings, "timer", window, None, lambda: float(now), 60.0)
    reader = ModelReader(tasks, now + skew, rng)
    reports = run_checks(reader, settings.shippers, window, settings.rules, now, 1, policy.windows)
    reports = policy.apply(reports)
    report = Report(window, settings.timezone, "UTC", tuple(reports))
    delivered = True
    if report.has_findings:
        delivered = clean or mode == "stateless" or rng.random() > 0.03
        if delivered:
            score.messages += 1
            for shipper in report.findings:
                score.delivered_ids.update(t.id for t in shipper.failed_tasks)
                score.delivered_ids.update(f"stuck:{t.id}" for t in shipper.stuck_tasks)
                score.states.append(shipper.state or FIRING)
    policy.finish(window, delivered, float(now))


def _score(score: Score, tasks: list[ModelTask], start: int, end: int, timeout: int) -> None:
    for task in tasks:
        failure = task.first_failure()
        if task.kind == "permanent" and failure is not None and start <= failure < end:
            score.permanent += 1
            seen = score.delivered_ids[task.id]
            score.failed_missed += seen == 0
            score.failed_duplicated += seen > 1
        if task.kind == "transient":
            score.transient_duplicated += score.delivered_ids[task.id] > 1
        if task.kind == "stuck" and start <= task.created + timeout < end:
            score.stuck += 1
            seen = score.delivered_ids[f"stuck:{task.id}"]
            score.stuck_missed += seen == 0
            score.stuck_duplicated += seen > 1
    open_episode = False
    for state in score.states:
        if state == FIRING:
            open_episode = True
        elif state == RESOLVED:
            score.unpaired_resolved += not open_episode
            open_episode = False
