import random
import tracemalloc

import pytest

from shipper_alert.config import Rules
from shipper_alert.evaluate import (
    PageIndex,
    ReadOutcome,
    Stall,
    WindowEvaluator,
    decide,
    needs_older_tasks,
    newest_created_before,
    stall_in_window,
)
from shipper_alert.models import Columns, Task, Window

W = Window(10_000, 10_300)  # the checked window; the previous one is [9_700, 10_000)


def task(task_id, status, create, finish=0, message="", code=None):
    return Task(task_id, status, message, create, finish, None, code)


def verdict(tasks, **rules):
    """The verdict on `tasks`, which must be the same whether given as Tasks, as records
    or as a sorted page."""
    tasks = list(tasks)
    evaluator = WindowEvaluator(W, Rules(**rules))
    evaluator.add(tasks)
    from_records = WindowEvaluator(W, Rules(**rules))
    records = [t.to_record() for t in tasks]
    from_records.add_records(records)
    assert from_records.verdict() == evaluator.verdict()
    from_index = WindowEvaluator(W, Rules(**rules))
    from_index.add_index(PageIndex(records, Columns.of(records)))
    assert from_index.verdict() == evaluator.verdict()
    return evaluator.verdict()


def test_a_failed_task_belongs_to_the_window_holding_its_finish_time():
    v = verdict(
        [
            task("in", "fail", 9_000, 10_000, "boom"),
            task("in-late", "fail", 9_000, 10_299, "boom"),
            task("before", "fail", 9_000, 9_999),
            task("after", "fail", 9_000, 10_300),
        ]
    )
    assert [t.id for t in v.failed_tasks] == ["in", "in-late"]
    assert v.counts.failed == 2
    assert v.breached is True


def test_fail_grace_moves_the_alert_time_to_creation_plus_grace():
    v = verdict(
        [
            task("young", "fail", 9_900, 9_950),  # due 9_900 + 300 = 10_200: in
            task("old", "fail", 9_000, 9_950),  # due max(9_950, 9_300) = 9_950: before
            task("too-young", "fail", 10_100, 10_150),  # due 10_400: later
        ],
        fail_grace=300,
    )
    assert [(t.id, t.alert_time) for t in v.failed_tasks] == [("young", 10_200)]


def test_succeeded_tasks_count_in_the_window_of_their_finish_time():
    v = verdict([task("a", "success", 9_000, 10_000), task("b", "success", 9_000, 9_999)])
    assert v.counts.succeeded == 1
    assert v.breached is False


@pytest.mark.parametrize(
    ("failed", "succeeded", "threshold", "ratio", "breached"),
    [
        (0, 5, 1, None, False),
        (1, 5, 1, None, True),
        (2, 5, 3, None, False),
        (3, 5, 3, None, True),
        (3, 5, 1, 0.5, False),  # 3/8 < 0.5
        (5, 5, 1, 0.5, True),  # 5/10 >= 0.5
        (1, 0, 1, 1.0, True),
        (0, 0, 1, 0.1, False),
    ],
)
def test_threshold_and_ratio(failed, succeeded, threshold, ratio, breached):
    tasks = [task(f"f{i}", "fail", 9_000, 10_100) for i in range(failed)]
    tasks += [task(f"s{i}", "success", 9_000, 10_100) for i in range(succeeded)]
    v = verdict(tasks, fail_threshold=threshold, fail_ratio_threshold=ratio)
    assert v.breached is breached
    assert v.reported_failed_tasks == (v.failed_tasks if breached else ())


def test_stuck_task_is_due_at_creation_plus_running_timeout():
    v = verdict(
        [
            task("due", "running", 10_000 - 3600),
            task("due-last-second", "running", 10_299 - 3600),
            task("reported-before", "running", 9_999 - 3600),
            task("not-yet", "running", 10_300 - 3600),
            task("finished", "success", 10_000 - 3600, 10_100),
        ],
        running_timeout=3600,
    )
    assert [t.id for t in v.stuck_tasks] == ["due", "due-last-second"]
    assert v.running == 4


def test_without_running_timeout_nothing_is_stuck():
    assert verdict([task("r", "running", 1_000)]).stuck_tasks == ()


def test_tasks_repeated_across_pages_count_once():
    evaluator = WindowEvaluator(W, Rules())
    evaluator.add([task("x", "fail", 9_000, 10_100), task("y", "success", 9_000, 10_100)])
    evaluator.add([task("x", "fail", 9_000, 10_100), task("y", "success", 9_000, 10_100)])
    v = evaluator.verdict()
    assert (v.counts.failed, v.counts.succeeded, v.tasks_seen) == (1, 1, 4)


def test_tasks_created_at_or_after_the_window_end_are_ignored():
    v = verdict([task("edge", "fail", 10_300, 10_300), task("newest", "running", 10_299)])
    assert v.failed_tasks == ()
    assert v.newest_create_time == 10_299


def test_previous_window_breach_is_judged_from_the_same_tasks():
    v = verdict([task("p", "fail", 9_000, 9_800), task("s", "success", 9_000, 10_100)])
    assert v.previous_breached is True
    assert v.breached is False


def test_failed_tasks_are_sorted_by_alert_time():
    v = verdict([task("b", "fail", 9_000, 10_200), task("a", "fail", 9_000, 10_100)])
    assert [t.id for t in v.failed_tasks] == ["a", "b"]


@pytest.mark.parametrize(
    ("newest", "expected"),
    [
        (10_000 - 600, Stall(9_400, 10_000, False)),  # first notice exactly at the start
        (10_299 - 600, Stall(9_699, 10_299, False)),
        (10_300 - 600, None),  # due next window
        (9_999 - 600, None),  # notified in the previous window
        (10_000 - 600 - 3600, Stall(5_800, 10_000, True)),  # one reminder later
        (10_150 - 600 - 7200, Stall(2_350, 10_150, True)),  # two reminders later
        (10_150 - 600 - 7000, None),  # between reminders
    ],
)
def test_stall_first_notice_and_reminders(newest, expected):
    rules = Rules(stall_timeout=600, remind_interval=3600)
    assert stall_in_window(newest, W, rules) == expected


def test_stall_without_any_task_reminds_on_whole_intervals_since_the_epoch():
    rules = Rules(stall_timeout=600, remind_interval=3600)
    assert stall_in_window(None, Window(10_800, 11_100), rules) == Stall(None, 10_800, True)
    assert stall_in_window(None, Window(10_801, 11_101), rules) is None


@pytest.mark.parametrize(
    ("newest", "expected"),
    [
        (10_000 - 600, Stall(9_400, 10_000, False)),  # the first notice
        (10_299 - 600, Stall(9_699, 10_299, False)),
        (10_300 - 600, None),  # not stalled yet
        (9_000 - 600, Stall(8_400, 10_000, True)),  # still stalled: this window too
        (None, Stall(None, 10_000, True)),
    ],
)
def test_remind_interval_zero_reports_a_stall_in_every_window_it_lasts(newest, expected):
    rules = Rules(stall_timeout=600, remind_interval=0)
    assert stall_in_window(newest, W, rules) == expected


def test_no_stall_timeout_no_stall():
    assert stall_in_window(0, W, Rules()) is None


def test_every_instant_is_reported_in_exactly_one_of_consecutive_windows():
    rules = Rules(stall_timeout=600, remind_interval=900)
    newest = 1_000
    hits = []
    for start in range(0, 20_000, 300):
        stall = stall_in_window(newest, Window(start, start + 300), rules)
        if stall:
            hits.append(stall.due_time)
    assert hits == list(range(1_600, 20_000, 900))


def test_memory_follows_the_findings_not_the_number_of_tasks_read():

    def lookback_tasks(count):  # generated lazily: the test itself holds none of them
        for i in range(count):
            yield task(f"ok-{i:06d}", "success", 1_000 + i % 8_000, 2_000 + i % 7_000)

    def peak(count):
        evaluator = WindowEvaluator(W, Rules())
        tracemalloc.start()
        evaluator.add(lookback_tasks(count))
        evaluator.add([task("f", "fail", 9_000, 10_100)])
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert evaluator.verdict().tasks_seen == count + 1
        return result

    small, large = peak(1_000), peak(50_000)
    assert large < small + 64 * 1024  # 49,000 more tasks read, no more memory held


# --- decide: the findings from the verdict and how the read went --------------------------

FAILED_IN_WINDOW = task("f", "fail", 9_000, 10_100, "boom")
FAILED_IN_PREVIOUS = task("p", "fail", 9_000, 9_800, "boom")
STUCK = task("r", "running", 10_000 - 3600)
STALL_RULES = {"stall_timeout": 600, "remind_interval": 3600}
COMPLETE = ReadOutcome(complete=True)
FAILED_READ = ReadOutcome(complete=False)


def findings(tasks, read, **rules):
    evaluator = WindowEvaluator(W, Rules(**rules))
    evaluator.add(tasks)
    return decide(evaluator.verdict(), read, W, Rules(**rules))


@pytest.mark.parametrize(
    ("case", "tasks", "read", "rules", "expected"),
    [
        (
            "breach on a complete read",
            [FAILED_IN_WINDOW],
            COMPLETE,
            {},
            {"breached": True, "failed": ("f",), "resolved": False, "partial": False},
        ),
        (
            "breach proved before the read failed is kept, partial",
            [FAILED_IN_WINDOW],
            FAILED_READ,
            {},
            {"breached": True, "failed": ("f",), "resolved": False, "partial": True},
        ),
        (
            "a read that failed before any task is not partial",
            [],
            FAILED_READ,
            {},
            {"breached": False, "failed": (), "resolved": False, "partial": False},
        ),
        (
            "resolved: previous window breached, this one does not",
            [FAILED_IN_PREVIOUS],
            COMPLETE,
            {},
            {"breached": False, "failed": (), "resolved": True, "partial": False},
        ),
        (
            "resolved waits for a complete read",
            [FAILED_IN_PREVIOUS],
            FAILED_READ,
            {},
            {"breached": False, "failed": (), "resolved": False, "partial": True},
        ),
        (
            "NOTIFY_RESOLVED=false: no resolved",
            [FAILED_IN_PREVIOUS],
            COMPLETE,
            {"notify_resolved": False},
            {"breached": False, "failed": (), "resolved": False, "partial": False},
        ),
        (
            "still breaching is not resolved",
            [FAILED_IN_PREVIOUS, FAILED_IN_WINDOW],
            COMPLETE,
            {},
            {"breached": True, "failed": ("f",), "resolved": False, "partial": False},
        ),
        (
            "below the threshold: failed tasks counted, not reported",
            [FAILED_IN_WINDOW],
            COMPLETE,
            {"fail_threshold": 2},
            {"breached": False, "failed": (), "resolved": False, "partial": False},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_decide_breach_resolved_and_partial(case, tasks, read, rules, expected):
    f = findings(tasks, read, **rules)
    got = {
        "breached": f.breached,
        "failed": tuple(t.id for t in f.failed_tasks),
        "resolved": f.resolved,
        "partial": f.partial,
    }
    assert got == expected
    assert f.counts.failed == sum(1 for t in tasks if t is FAILED_IN_WINDOW)


@pytest.mark.parametrize(
    ("case", "tasks", "read", "expected"),
    [
        ("newest in range, due now", [task("n", "success", 9_400, 9_500)], COMPLETE, 9_400),
        ("newest in range, not due", [task("n", "success", 9_900, 9_950)], COMPLETE, None),
        (
            "no task in range: the one found further back decides",
            [],
            ReadOutcome(complete=True, newest_before_range=9_400),
            9_400,
        ),
        (
            "a task in range wins over the one further back",
            [task("n", "success", 9_900, 9_950)],
            ReadOutcome(complete=True, newest_before_range=9_400),
            None,
        ),
        (
            "stall waits for a complete read",
            [task("n", "success", 9_400, 9_500)],
            FAILED_READ,
            None,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_decide_stall(case, tasks, read, expected):
    stall = findings(tasks, read, **STALL_RULES).stall
    assert (stall.newest_create_time if stall else None) == expected
    if stall:
        assert stall == Stall(expected, expected + 600, False)


def test_stuck_tasks_seen_before_a_failed_read_are_reported():
    f = findings([STUCK], FAILED_READ, running_timeout=3600)
    assert [t.id for t in f.stuck_tasks] == ["r"]
    assert (f.running, f.partial, f.stall) == (1, True, None)


@pytest.mark.parametrize(
    ("newest", "rules", "expected"),
    [
        (None, STALL_RULES, True),
        (9_000, STALL_RULES, False),
        (None, {}, False),  # no stall rule: nothing to look for
    ],
)
def test_needs_older_tasks(newest, rules, expected):
    assert needs_older_tasks(newest, Rules(**rules)) is expected


@pytest.mark.parametrize(
    ("creates", "end", "start", "expected"),
    [
        ([100, 300, 200], 1_000, None, 300),
        ([100, 300, 1_000], 1_000, None, 300),  # at the end: outside the half-open range
        ([1_000, 2_000], 1_000, None, None),
        ([100], 1_000, 500, 500),  # the newest of an earlier page stays
        ([], 1_000, None, None),
    ],
)
def test_newest_created_before(creates, end, start, expected):
    assert newest_created_before(creates, end, start) == expected


@pytest.mark.parametrize("seed", range(6))
def test_records_with_or_without_columns_give_the_verdict_of_tasks(seed: int):
    """The shortcuts over a page's columns (C loops; bisection in a sorted page) decide
    exactly as `add` does, for windows before and after the tasks' middle too: random
    tasks around both windows, running ones among them (with a finish time of 0, or none
    at all), repeats across pages, FAIL_GRACE or not, random page borders."""
    rng = random.Random(seed)
    rules = Rules(fail_grace=rng.choice([0, 300]), running_timeout=rng.choice([None, 600]))
    tasks = []
    for n in range(400):
        status = rng.choice(["success", "fail", "fail", "running"])
        created = rng.randrange(W.previous().start - 1500, W.end + 60)
        finish = 0 if status == "running" else created + rng.randrange(0, 900)
        tasks.append(task(f"t-{n}", status, created, finish, "boom"))
    tasks += rng.sample(tasks, 40)  # repeated on later pages
    records = [t.to_record() for t in tasks]
    for record in records:
        if record["taskStatus"] == "running" and rng.random() < 0.3:
            record["taskFinishTime"] = None  # "may be missing or null while running"
    # The checked window, and earlier and later ones (a timer check replays dozens).
    for window in (W, Window(W.start - 900, W.end - 900), Window(W.start + 300, W.end + 300)):
        by_tasks = WindowEvaluator(window, rules)
        by_tasks.add(tasks)
        evaluators = [WindowEvaluator(window, rules) for _ in range(3)]
        plain, with_columns, indexed = evaluators
        at = 0
        while at < len(records):
            page = records[at : at + rng.randrange(1, 120)]
            at += len(page)
            plain.add_records(iter(page))
            with_columns.add_records(page, Columns.of(page))
            indexed.add_index(PageIndex(page, Columns.of(page)))
        assert [e.verdict() for e in evaluators] == [by_tasks.verdict()] * 3
        assert by_tasks.verdict().tasks_seen > 0


def test_fail_grace_brings_a_task_finished_long_before_into_the_window():
    # Created and finished before the previous window, due in this one by FAIL_GRACE: the
    # shortcut over a page's columns must not pass it over as lookback.
    v = verdict([task("late-due", "fail", 9_600, 9_650, "boom")], fail_grace=600)
    assert [(t.id, t.alert_time) for t in v.failed_tasks] == [("late-due", 10_200)]
    assert v.tasks_seen == 1
