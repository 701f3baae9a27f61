import json

import factories
from shipper_alert.check import apply_reminders, record_reminders
from shipper_alert.config import Rules
from shipper_alert.models import Window
from shipper_alert.reminders import FILE_NAME, ReminderState
from shipper_alert.report import ErrorInfo

RULES = Rules(remind_interval=3600)


def windows(count, start=1795852800):
    return [Window(start + i * 300, start + (i + 1) * 300) for i in range(count)]


def test_a_monitor_error_is_notified_first_then_once_per_remind_interval(tmp_path):
    error = ErrorInfo("Unauthorized", "The AccessKeyId is unauthorized.", "RID", 401)
    due = []
    for window in windows(30):
        state = ReminderState(tmp_path)  # a warm instance reloads the file each check
        reports = apply_reminders([factories.shipper(error=error)], state, window, RULES)
        due.append(reports[0].error_notice_due)
        record_reminders(reports, state, window)
    # Notified at the first check, then 12 checks (1 h) later, then 12 later again.
    assert [i for i, d in enumerate(due) if d] == [0, 12, 24]


def test_an_undelivered_notice_is_tried_again_at_the_next_check(tmp_path):
    error = ErrorInfo("ProjectNotExist", "Project p does not exist")
    first, second = windows(2)
    state = ReminderState(tmp_path)
    reports = apply_reminders([factories.shipper(error=error)], state, first, RULES)
    assert reports[0].error_notice_due  # ...but record_reminders is not called: not delivered
    reports = apply_reminders(
        [factories.shipper(error=error)], ReminderState(tmp_path), second, RULES
    )
    assert reports[0].error_notice_due


def test_a_shipper_that_reads_again_is_forgotten_so_a_new_error_is_notified_at_once(tmp_path):
    error = ErrorInfo("Unauthorized", "x")
    w1, w2, w3 = windows(3)
    state = ReminderState(tmp_path)
    record_reminders(apply_reminders([factories.shipper(error=error)], state, w1, RULES), state, w1)
    state = ReminderState(tmp_path)
    apply_reminders([factories.shipper()], state, w2, RULES)
    state.save()
    state = ReminderState(tmp_path)
    assert apply_reminders([factories.shipper(error=error)], state, w3, RULES)[0].error_notice_due


def test_a_different_error_code_is_a_new_notice(tmp_path):
    w1, w2 = windows(2)
    state = ReminderState(tmp_path)
    first = [factories.shipper(error=ErrorInfo("Unauthorized", "x"))]
    record_reminders(apply_reminders(first, state, w1, RULES), state, w1)
    second = [factories.shipper(error=ErrorInfo("ProjectNotExist", "y"))]
    assert apply_reminders(second, ReminderState(tmp_path), w2, RULES)[0].error_notice_due


def test_a_corrupt_state_file_means_only_a_possible_repeat(tmp_path, caplog):
    (tmp_path / FILE_NAME).write_text("{not json")
    state = ReminderState(tmp_path)
    report = factories.shipper(error=ErrorInfo("Unauthorized", "x"))
    assert apply_reminders([report], state, windows(1)[0], RULES)[0].error_notice_due
    assert "ignoring unreadable reminder state" in caplog.text
    record_reminders(apply_reminders([report], state, windows(1)[0], RULES), state, windows(1)[0])
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {
        "proj-a/nginx/oss-archive|Unauthorized": windows(1)[0].end
    }
