"""The policy applied to reports: ledger filtering (failed again after retry, late failures)
and what the message carries versus what the result says the check found."""

from __future__ import annotations

from shipper_alert.config import Rules, load_settings
from shipper_alert.ledger.document import Document, TargetRecord
from shipper_alert.ledger.session import LEDGER, Plan
from shipper_alert.models import ShipperRef, Task, Window
from shipper_alert.notices import apply_policy
from shipper_alert.policy import FIRING, Episode
from shipper_alert.policy_run import PolicyRun
from shipper_alert.report import ShipperReport
from shipper_alert.window_views import HistoryRecorder, windows_between

RULES = Rules()
REF = ShipperRef("proj-a", "logs", "to-oss")
END = 1795852800 - 60
WINDOW = Window(END - 300, END)


def fail(task_id, finished, code="UnAuthorized"):
    return Task(task_id, "fail", f"{code}: x", finished - 600, finished, code=code)


def report_for(tasks, windows=(WINDOW,)):
    recorder = HistoryRecorder(windows, RULES)
    recorder.add(tasks)
    history = recorder.result()
    return ShipperReport(ref=REF, breached=history.windows[-1].verdict.breached, history=history)


def test_a_notified_task_that_failed_again_is_counted_not_sent():
    doc = Document(1, END - 300, {str(REF): TargetRecord({"t-1": END - 900})})
    report = report_for([fail("t-1", END - 100), fail("t-2", END - 50)])
    (carried,), updates = apply_policy([report], RULES, doc)
    assert [t.id for t in carried.failed_tasks] == ["t-2"]
    assert (carried.state, carried.refailed) == (FIRING, 1)
    assert carried.to_json()["failedTaskIds"] == ["t-2"]
    assert updates[str(REF)].notified == {"t-2": END}


def test_a_failure_whose_own_check_missed_it_is_reported_late():
    doc = Document(1, END - 300, {})
    late = fail("missed", END - 2000)  # due long before; a retry was running at its check
    (carried,), _ = apply_policy([report_for([late])], RULES, doc)
    assert [t.id for t in carried.failed_tasks] == ["missed"]
    assert carried.to_json()["failedTaskIds"] == ["missed"]


def test_a_held_finding_waits_and_the_result_still_lists_it():
    episode = Episode(END - 600, END - 600, END - 300, frozenset({"code:UnAuthorized"}))
    doc = Document(1, END - 300, {str(REF): TargetRecord({}, episode)})
    (carried,), updates = apply_policy([report_for([fail("t-3", END - 10)])], RULES, doc)
    assert (carried.state, carried.held, carried.has_findings) == (None, 1, False)
    assert carried.to_json()["failedTaskIds"] == ["t-3"]
    assert updates[str(REF)].notified == {}
    assert [f.key for f in updates[str(REF)].episode.held] == ["t-3"]


def test_a_catch_up_sends_once_for_every_window_since_the_last_checked():
    windows = tuple(windows_between(END - 600, WINDOW))
    doc = Document(1, END - 900, {})
    tasks = [fail("a", END - 800), fail("b", END - 450), fail("c", END - 100, "ConfigNotExist")]
    (carried,), _ = apply_policy([report_for(tasks, windows)], RULES, doc)
    assert len(windows) == 3
    assert [t.id for t in carried.failed_tasks] == ["a", "b", "c"]
    assert carried.state == "STILL FAILING"  # the new cause in the last window


def test_the_message_counts_what_failed_again_after_a_retry():
    environ = {
        "SLS_ENDPOINT": "http://127.0.0.1:1",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret-value",
        "SHIPPERS": str(REF),
        "DRY_RUN": "true",
    }
    doc = Document(1, END - 300, {str(REF): TargetRecord({"t-1": END - 900, "t-9": END - 900})})
    run = PolicyRun(Plan(LEDGER, (WINDOW,), doc), load_settings(environ))
    (shown,) = run.apply(
        [report_for([fail("t-1", END - 100), fail("t-9", END - 90), fail("t-2", END - 50)])]
    )
    assert (shown.refailed, [t.id for t in shown.failed_tasks]) == (2, ["t-2"])


def test_a_missed_failure_is_not_owed_when_one_failure_does_not_breach():
    doc = Document(1, END - 300, {})
    rules = Rules(fail_threshold=2)
    (carried,), _ = apply_policy([report_for([fail("alone", END - 2000)])], rules, doc)
    assert (carried.state, carried.failed_tasks) == (None, ())


def test_a_task_reported_stuck_that_fails_later_is_a_new_failure():
    rules = Rules(running_timeout=3600)
    doc = Document(1, END - 300, {str(REF): TargetRecord({"stuck:s-1": END - 900})})
    recorder = HistoryRecorder((WINDOW,), rules)
    recorder.add(
        [Task("s-1", "fail", "UnAuthorized: x", END - 7200, END - 30, code="UnAuthorized")]
    )
    history = recorder.result()
    report = ShipperReport(ref=REF, breached=True, history=history)
    (carried,), updates = apply_policy([report], rules, doc)
    assert [t.id for t in carried.failed_tasks] == ["s-1"]
    assert carried.refailed == 0
    assert updates[str(REF)].notified == {"s-1": END}


def test_stuck_findings_carry_the_task_and_the_result_its_id():
    rules = Rules(running_timeout=3600)
    recorder = HistoryRecorder((WINDOW,), rules)
    recorder.add([Task("r-1", "running", "", END - 3600 - 100, 0)])
    report = ShipperReport(ref=REF, history=recorder.result())
    (carried,), updates = apply_policy([report], rules, Document(1, END - 300, {}))
    assert [t.id for t in carried.stuck_tasks] == ["r-1"]
    assert carried.to_json()["stuckTaskIds"] == ["r-1"]
    assert updates[str(REF)].notified == {"stuck:r-1": END}


def test_a_stateless_digest_carries_again_what_the_replay_believes_went_out_earlier():
    """An earlier check may have missed a failure (an SLS retry was running then); the
    replay cannot know, so the next stateless message carries what is still visible."""
    hour = 3600 * (END // 3600 + 1)  # a grid instant; the checked window holds it
    window = Window(hour - 120, hour + 180)
    windows = windows_between(window.end - 25 * 300, window)
    early, late = windows[2], windows[-1]
    tasks = [fail("t-early", early.start + 10), fail("t-late", late.start + 10, "ConfigNotExist")]
    tasks += [fail(f"t-{w.end}", w.start + 20) for w in windows[3:-1]]
    (carried,), _ = apply_policy([report_for(tasks, windows)], RULES, None)
    ids = [t.id for t in carried.failed_tasks]
    assert carried.state == "STILL FAILING"
    assert "t-early" in ids, ids  # its FIRING was the second window of the replay
    assert "t-late" in ids
    assert len(ids) == len(set(ids)) == len(tasks)


def test_a_replayed_stuck_task_alone_opens_no_stateless_episode():
    """A task running now that was due as stuck two windows ago may be an SLS retry of a
    failure its own check saw failed: replayed, it does not invent a FIRING/RESOLVED."""
    rules = Rules(running_timeout=3600)
    windows = windows_between(END - 600, WINDOW)
    recorder = HistoryRecorder(windows, rules)
    recorder.add([Task("r-1", "running", "", windows[0].start + 10 - 3600, 0)])
    history = recorder.result()
    assert history.windows[0].observation().trouble
    assert not history.windows[0].observation(own_check=False).trouble
    report = ShipperReport(ref=REF, history=history)
    (carried,), _ = apply_policy([report], rules, None)
    assert carried.state is None
