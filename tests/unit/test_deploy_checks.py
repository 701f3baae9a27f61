"""make deploy's consistency checks: timer period, placeholder SHIPPERS, least-privilege role."""

import pytest

from shipper_alert_dev.deploy.checks import (
    placeholder_problems,
    policy_lines,
    role_policy,
    timer_period,
    timer_problems,
)


@pytest.mark.parametrize(
    ("cron", "period"),
    [
        ("0 0/5 * * * *", 300),
        ("0 */15 * * * *", 900),
        ("0 * * * * *", 60),
        ("0 7 * * * *", 3600),
        ("0 0 0/2 * * *", 7200),
        ("0 30 4 * * *", 86400),
        ("@every 5m", 300),
        ("@every 1h30m", 5400),
        ("0 0/7 * * * *", None),  # 0, 7, ..., 56, then 0: 4 minutes once an hour
        ("0 0,30 * * * *", None),
        ("30 0/5 * * * *", None),
        ("0 0/5 * * * MON-FRI", None),
        ("@every soon", None),
        ("0 0/5 * * *", None),
    ],
)
def test_the_timer_period_is_read_from_regular_expressions_only(cron, period):
    assert timer_period(cron) == period


def test_a_timer_that_differs_from_check_interval_is_a_problem():
    assert timer_problems({"every-5m": "0 0/5 * * * *"}, {"CHECK_INTERVAL": "10m"}) == [
        "timer every-5m: fires every 5m but CHECK_INTERVAL is 10m: each check covers one "
        "CHECK_INTERVAL, so alerts would repeat or windows go unchecked; make them equal"
    ]
    assert timer_problems({"every-5m": "0 0/5 * * * *"}, {}) == []  # the 5m default
    assert timer_problems({"t": "@every 10m"}, {"CHECK_INTERVAL": "600"}) == []


def test_a_timer_whose_period_cannot_be_told_is_a_problem():
    assert timer_problems({"t": "0 0,30 * * * *"}, {"CHECK_INTERVAL": "30m"}) == [
        "timer t: cannot tell the period of '0 0,30 * * * *'; use '0 0/N * * * *' or "
        "'@every Nm' so that it can be checked against CHECK_INTERVAL"
    ]


def test_the_placeholder_shippers_are_refused():
    env = {"SHIPPERS": "shop/logs/oss, my-project/my-logstore/my-shipper"}
    assert placeholder_problems(env) == [
        "SHIPPERS: my-project/my-logstore/my-shipper is template.yml's placeholder: set the "
        "shippers to watch (template.yml, the env file or FC_ENV_SHIPPERS)"
    ]
    assert placeholder_problems({"SHIPPERS": "shop/logs/oss"}) == []


def test_the_role_policy_names_only_the_watched_projects_and_actions():
    policy = role_policy({"SHIPPERS": "shop/app/to-oss"}, "cn-hangzhou", "123")
    assert policy == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["log:GetShipperStatus"],
                "Resource": [
                    "acs:log:cn-hangzhou:123:project/shop/logstore/app",
                    "acs:log:cn-hangzhou:123:project/shop/logstore/app/*",
                ],
            }
        ],
    }


def test_listing_and_retry_appear_only_when_needed():
    lines = policy_lines(role_policy({"SHIPPERS": "shop/*/*", "AUTO_RETRY": "yes"}, None, None))
    assert lines == [
        "  Allow log:GetShipperStatus, log:RetryShipperTask on acs:log:*:*:project/shop/logstore/*, "
        "acs:log:*:*:project/shop/logstore/*/*",
        "  Allow log:ListLogStores on acs:log:*:*:project/shop/logstore/*",
        "  Allow log:ListShipper on acs:log:*:*:project/shop/logstore/*",
    ]


def test_the_single_shipper_variables_count_too():
    env = {"SLS_PROJECT": "shop", "SLS_LOGSTORE": "app", "SLS_SHIPPER": "ship"}
    assert policy_lines(role_policy(env)) == [
        "  Allow log:GetShipperStatus on acs:log:*:*:project/shop/logstore/app, "
        "acs:log:*:*:project/shop/logstore/app/*"
    ]


def test_an_oss_ledger_adds_its_prefix_only():
    lines = policy_lines(
        role_policy({"SHIPPERS": "shop/app/ship", "STATE_URL": "oss://ledger/alerts/prod"})
    )
    assert lines[1:] == [
        "  Allow oss:GetObject, oss:PutObject, oss:GetObjectMeta on acs:oss:*:*:ledger/alerts/prod*",
        "  Allow oss:ListObjects on acs:oss:*:*:ledger",
    ]
    assert (
        len(policy_lines(role_policy({"SHIPPERS": "shop/app/ship", "STATE_URL": "file:///tmp/x"})))
        == 1
    )


def test_exports_add_the_job_reads_and_the_diagnostic_logstore():
    lines = policy_lines(role_policy({"EXPORTS": "shop/*, data/oss-daily"}))
    assert lines == [
        "  Allow log:GetJob, log:ListJobs on acs:log:*:*:project/data/job/oss-daily, "
        "acs:log:*:*:project/shop/job/*",
        "  Allow log:ListOSSExports, log:GetOSSExport, log:ListOSSHDFSExports, "
        "log:GetOSSHDFSExport, log:ListMaxComputeExports, log:GetMaxComputeExport on *",
        "  Allow log:GetLogStoreLogs on acs:log:*:*:project/data/logstore/internal-diagnostic_log, "
        "acs:log:*:*:project/shop/logstore/internal-diagnostic_log",
    ]
    moved = role_policy({"EXPORTS": "shop/*", "DIAGNOSTIC_LOGSTORE": "ops/diag"})
    assert moved["Statement"][-1]["Resource"] == ["acs:log:*:*:project/ops/logstore/diag"]
