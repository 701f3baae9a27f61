"""The top of every message: state, title, causes (exact counts, every cause), retry commands."""

from dataclasses import replace

import factories
from shipper_alert import headings
from shipper_alert.report import ErrorInfo, RetryOutcome

CODES = ("UnAuthorized", "InvalidOssBucket", "NoSuchPartition", "InternalServerError")


def test_states_name_the_most_urgent_finding():
    breach = factories.shipper("p/l/a", [factories.failed("t1")])
    unreadable = factories.shipper("p/l/b", error=ErrorInfo("Unauthorized", "no role"))
    resolved = factories.shipper("p/l/c", resolved=True)
    assert headings.finding_state(unreadable) == "MONITOR ERROR"
    assert headings.finding_state(resolved) == "RESOLVED"
    assert headings.state_of([resolved, unreadable, breach]) == "FIRING"
    assert headings.state_of([resolved, replace(breach, state="STILL FAILING")]) == (
        "STILL FAILING"
    )


def test_every_cause_with_its_exact_count_targets_and_examples():
    report = factories.report(
        factories.shipper(
            "p/l/a",
            [factories.failed(f"a-{i}", f"{CODES[i % 4]} x", CODES[i % 4]) for i in range(300)],
        ),
        factories.shipper(
            "p/l/b", [factories.failed(f"b-{i}", "boom 7", None) for i in range(100)]
        ),
    )
    causes = headings.causes_of(report)
    assert causes.hidden == 0
    counts = {c.key: (c.count, c.targets, c.example_ids) for c in causes.shown}
    assert counts["UnAuthorized"] == (75, (("p/l/a", 75),), ("a-0", "a-4", "a-8"))
    assert counts["boom {n}"] == (100, (("p/l/b", 100),), ("b-0", "b-1", "b-2"))
    assert sum(c.count for c in causes.shown) == 400
    # What a person must fix first; what SLS retries by itself last.
    assert causes.shown[-1].key == "InternalServerError"


def test_causes_past_the_cap_are_counted():
    failures = [factories.failed(f"t-{i}", f"E{i} failed", f"E{i}") for i in range(15)]
    causes = headings.causes_of(factories.report(factories.shipper(failures=failures)))
    assert (len(causes.shown), causes.hidden, causes.hidden_count) == (12, 3, 3)


def test_the_retry_command_only_when_auto_retry_did_not_run():
    failures = [factories.failed(f"t-{i}") for i in range(12)]
    shipper = factories.shipper("proj-a/nginx/oss-archive", failures)
    report = replace(factories.report(shipper), region="cn-hangzhou")
    first, second = headings.retry_commands(report, shipper)
    assert first.startswith(
        "aliyunlog log retry_shipper_tasks --project_name=proj-a --logstore_name=nginx "
        "--shipper_name=oss-archive --region-endpoint=cn-hangzhou.log.aliyuncs.com "
    )
    assert second.endswith("""--task_list='["t-10", "t-11"]'""")
    retried = replace(shipper, retry=RetryOutcome(("t-0",), True))
    assert headings.retry_commands(report, retried) == ()
