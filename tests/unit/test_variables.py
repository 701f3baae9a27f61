"""Unknown variables with the product's prefixes are configuration errors with a suggestion."""

import pytest

from shipper_alert.config import KNOWN_VARIABLES, inspect_settings
from shipper_alert.errors import ConfigError
from shipper_alert.handler import run
from shipper_alert.variables import names_from_constants, unknown_variable_problems

BASE = {
    "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "proj-a/logs/oss-ship",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "AKID-0123",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "AK-SECRET-VALUE",
    "DRY_RUN": "true",
}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "FAIL_TRESHOLD",
            "FAIL_TRESHOLD: is not a variable shipper-alert reads; did you mean FAIL_THRESHOLD?",
        ),
        (
            "DINGTALK_SECRETT",
            "DINGTALK_SECRETT: is not a variable shipper-alert reads; did you mean DINGTALK_SECRET?",
        ),
        ("SHIPPER", "SHIPPER: is not a variable shipper-alert reads; did you mean SHIPPERS?"),
        (
            "HEARTBEAT_UR",
            "HEARTBEAT_UR: is not a variable shipper-alert reads; did you mean HEARTBEAT_URL?",
        ),
        ("SMTP_XYZZY_PLUGH", "SMTP_XYZZY_PLUGH: is not a variable shipper-alert reads"),
    ],
)
def test_a_misspelt_variable_is_a_problem_naming_the_nearest_real_one(name, problem):
    assert list(inspect_settings(dict(BASE, **{name: "3"})).problems) == [problem]


def test_the_value_of_a_misspelt_secret_is_never_shown():
    found = inspect_settings(dict(BASE, DINGTALK_SECRETT="SECvery-secret")).problems
    assert found
    assert "SECvery-secret" not in " ".join(found)


@pytest.mark.parametrize(
    "name",
    [
        "PATH",  # no product prefix
        "ALIBABA_CLOUD_REGION_ID",  # someone else's variable
        "SHIPPER_ALERT_ENV_FILE",  # the deploy tool's
        "STATE_URL",  # in the contract, read by a module of its own
        "EXPORTS",
        "EXPORT_LAG_THRESHOLD",
        "EXPORT_FAILED_ROWS_THRESHOLD",
        "DIAGNOSTIC_LOGSTORE",
        "ALERT_LABEL",
    ],
)
def test_other_and_known_names_are_not_flagged(name):
    assert unknown_variable_problems({name: "x"}, KNOWN_VARIABLES) == []


def test_an_empty_misspelt_variable_counts_as_unset():
    assert unknown_variable_problems({"FAIL_TRESHOLD": " "}, KNOWN_VARIABLES) == []


def test_every_variable_of_the_config_module_is_known():
    assert {"FAIL_THRESHOLD", "SMTP_PASSWORD", "SLS_ENDPOINT", "LOG_LEVEL"} <= KNOWN_VARIABLES
    assert "MAX_LOOKBACK" not in KNOWN_VARIABLES  # a constant, not a variable name


def test_names_from_constants_reads_upper_case_string_constants_only():
    namespace = {"FOO_URL": "FOO_URL", "LIMIT": 3, "lower": "LOWER", "CHOICES": ("A",)}
    assert names_from_constants(namespace) == {"FOO_URL"}


def test_the_handler_refuses_a_misspelt_variable_before_any_request():
    with pytest.raises(ConfigError) as caught:
        run(b"", None, dict(BASE, FAIL_TRESHOLD="3"))
    assert caught.value.problems == [
        "FAIL_TRESHOLD: is not a variable shipper-alert reads; did you mean FAIL_THRESHOLD?"
    ]
