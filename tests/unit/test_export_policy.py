"""Export jobs under the notification policy: the ledger's episode and the stateless rule."""

from __future__ import annotations

from shipper_alert.config import Rules
from shipper_alert.export_policy import apply_export_policy, ledger_name
from shipper_alert.exports_evaluate import ConnectorError, ExportVerdict, NotRunning
from shipper_alert.exports_report import ExportReport
from shipper_alert.exports_settings import ExportRef
from shipper_alert.ledger.document import Document, TargetRecord
from shipper_alert.models import Window
from shipper_alert.policy import FIRING, RESOLVED, STILL_FAILING
from shipper_alert.sls.exports import ExportJob

RULES = Rules()  # REMIND_INTERVAL 1h
FIRST_END = 1795852800 - 60  # a minute after an hour boundary, as timer windows end
JOB = ExportJob("exp-a", "to-oss", "oss", "app-log", "RUNNING", None)


def report(breached: bool, error: str = "denied", **fields) -> ExportReport:
    errors = (ConnectorError(error, 2, 5, None),) if breached else ()
    return ExportReport(ExportRef("exp-a", "to-oss"), JOB, ExportVerdict(errors=errors), **fields)


def run_ledger(pattern: str) -> list[tuple[int, str]]:
    """'E' errors (cause 'denied'), 'N' a new cause, '.' clear; one ledger across checks."""
    doc = Document(1, FIRST_END - 300, {})
    sent = []
    for index, symbol in enumerate(pattern):
        end = FIRST_END + index * 300
        shown = report(symbol != ".", "other cause" if symbol == "N" else "denied")
        (out,), updates = apply_export_policy([shown], RULES, Window(end - 300, end), doc)
        for name, update in updates.items():
            doc.targets[name] = TargetRecord({}, update.episode)
        if out.has_findings:
            sent.append((index, out.state))
    return sent


def test_with_the_ledger_a_two_hour_export_episode_sends_firing_digests_and_resolved():
    sent = run_ledger("E" * 24 + "." * 14)
    assert sent == [(0, FIRING), (13, STILL_FAILING), (35, RESOLVED)]


def test_with_the_ledger_a_new_export_cause_notifies_in_its_own_check():
    assert run_ledger("EEEN") == [(0, FIRING), (3, STILL_FAILING)]


def test_with_the_ledger_a_flapping_export_job_stays_one_episode():
    sent = run_ledger("E.E.E." + "." * 12)
    assert sent == [(0, FIRING), (16, RESOLVED)]  # clear for an hour after window 4


def test_the_ledger_update_is_keyed_apart_from_the_shippers():
    doc = Document(1, FIRST_END - 300, {})
    _, updates = apply_export_policy([report(True)], RULES, Window(FIRST_END - 300, FIRST_END), doc)
    assert list(updates) == ["export:exp-a/to-oss"] == [ledger_name(report(True))]


def test_stateless_an_export_job_fires_holds_then_digests_on_the_grid():
    window = Window(FIRST_END + 300, FIRST_END + 600)  # off the hour grid
    cases = [
        (report(True), FIRING),
        (report(True, previous_breached=True, previous_causes=frozenset({"message:denied"})), None),
        (report(True, previous_breached=True, previous_causes=frozenset({"message:x"})), "S"),
        (report(False, previous_breached=True), RESOLVED),
    ]
    got = [apply_export_policy([r], RULES, window, None)[0][0].state for r, _ in cases]
    assert got == [FIRING, None, STILL_FAILING, RESOLVED]
    grid = Window(FIRST_END, FIRST_END + 300)  # holds the hour
    held = report(True, previous_breached=True, previous_causes=frozenset({"message:denied"}))
    (out,), _ = apply_export_policy([held], RULES, grid, None)
    assert out.state == STILL_FAILING


def test_a_message_about_a_stopped_job_says_it_is_still_stopped():
    stopped = NotRunning("STOPPED", FIRST_END - 4000, FIRST_END - 4000, False, True)
    shown = report(False, lasting=stopped, previous_breached=True)
    grid = Window(FIRST_END, FIRST_END + 300)
    (out,), _ = apply_export_policy([shown], RULES, grid, None)
    assert out.state == STILL_FAILING
    assert out.not_running is not None
    assert out.groups[0].code == "JobNotRunning"
