"""template.yml stays in step with the code: handler, runtime, variables, timer period."""

from __future__ import annotations

from pathlib import Path

import yaml

from shipper_alert import config
from shipper_alert.config import load_settings
from shipper_alert.durations import parse_duration

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yml"
KNOWN = {value for name, value in vars(config).items() if name.isupper() and isinstance(value, str)}


def function_properties():
    resources = yaml.safe_load(TEMPLATE.read_text())["Resources"]
    (service,) = resources.values()
    functions = [
        v
        for v in service.values()
        if isinstance(v, dict) and v.get("Type") == "Aliyun::Serverless::Function"
    ]
    (function,) = functions
    return service, function


def test_the_function_is_index_handler_on_python310():
    _, function = function_properties()
    properties = function["Properties"]
    assert properties["Handler"] == "index.handler"
    assert properties["Runtime"] == "python3.10"
    assert properties["CodeUri"] == "./dist/shipper-alert-fc.zip"
    assert (Path(__file__).resolve().parents[2] / "src" / "index.py").is_file()


def test_every_environment_variable_is_one_the_function_reads():
    _, function = function_properties()
    names = set(function["Properties"]["EnvironmentVariables"])
    assert names - KNOWN == set()


def test_the_template_values_are_a_valid_configuration():
    _, function = function_properties()
    env = {k: str(v) for k, v in function["Properties"]["EnvironmentVariables"].items()}
    env.update(SLS_ENDPOINT="cn-hangzhou.log.aliyuncs.com", DRY_RUN="true")
    env.update(ALIBABA_CLOUD_ACCESS_KEY_ID="id", ALIBABA_CLOUD_ACCESS_KEY_SECRET="secret")
    load_settings(env)


def test_the_timer_period_equals_check_interval():
    _, function = function_properties()
    (event,) = function["Events"].values()
    cron = event["Properties"]["CronExpression"].split()
    assert len(cron) == 6  # seconds first (https://help.aliyun.com/document_detail/171746.html)
    seconds, minutes = cron[0], cron[1]
    assert seconds == "0"
    period = int(minutes.split("/")[1]) * 60
    assert period == parse_duration(
        function["Properties"]["EnvironmentVariables"]["CHECK_INTERVAL"]
    )


def test_the_role_may_call_what_the_function_calls_for_its_placeholder_shipper():
    """The template's role fits its own SHIPPERS (least privilege); `make deploy` derives the
    export-job and ledger actions from EXPORTS and STATE_URL (tests/unit/test_deploy_checks.py)."""
    service, _ = function_properties()
    actions = {
        a
        for policy in service["Properties"]["Policies"]
        for s in policy["Statement"]
        for a in s["Action"]
    }
    assert {
        "log:GetShipperStatus",
        "log:ListLogStores",
        "log:ListShipper",
        "log:RetryShipperTask",
    } <= actions
    assert not any("Export" in a or a.endswith("Job") for a in actions)
