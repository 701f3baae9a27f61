"""s.yaml (FC 3.0, Serverless Devs fc3) is valid for the component and in step with template.yml."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from shipper_alert.config import SECRET_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "fixtures" / "fc3-props.schema.json"
_ENV_REFERENCE = re.compile(r"\$\{env\(([A-Z][A-Z0-9_]*)\)\}")


def s_yaml() -> dict:
    return yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))


def props() -> dict:
    (resource,) = s_yaml()["resources"].values()
    assert resource["component"] == "fc3"
    return resource["props"]


def template_function() -> tuple[dict, str, dict]:
    resources = yaml.safe_load((ROOT / "template.yml").read_text(encoding="utf-8"))["Resources"]
    ((service_name, service),) = resources.items()
    ((name, function),) = [
        (k, v)
        for k, v in service.items()
        if isinstance(v, dict) and v.get("Type") == "Aliyun::Serverless::Function"
    ]
    return service, f"{service_name}-{name}", function


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    )


def test_s_yaml_is_a_serverless_devs_3_project_with_one_fc3_function():
    document = s_yaml()
    assert document["edition"] == "3.0.0"
    assert list(document["resources"]) == ["shipper-alert-check"]


def test_s_yaml_validates_against_the_fc3_schema():
    assert schema_errors(props()) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"runtime": "python3.13"}, "runtime: 'python3.13' is not one of"),
        ({"memorySize": 100}, "memorySize: 100 is not a multiple of 64"),
        (
            {"triggers": [{"triggerName": "t", "triggerType": "timer"}]},
            "triggers/0: 'triggerConfig' is a required property",
        ),
    ],
)
def test_the_schema_check_can_fail(change, error):
    errors = schema_errors({**props(), **change})
    assert any(e.startswith(error) for e in errors), errors


def test_the_function_matches_template_yml():
    service, name, function = template_function()
    fprops = function["Properties"]
    p = props()
    # FC 3.0 has no service: the function is named {service}-{function} (as make deploy does).
    assert p["functionName"] == name
    assert (p["handler"], p["runtime"]) == (fprops["Handler"], fprops["Runtime"])
    assert p["code"].lstrip("./") == fprops["CodeUri"].lstrip("./")
    assert (p["memorySize"], p["timeout"], p["instanceConcurrency"]) == (
        fprops["MemorySize"],
        fprops["Timeout"],
        fprops["InstanceConcurrency"],
    )
    assert p["description"] == fprops["Description"]
    assert p["internetAccess"] == service["Properties"]["InternetAccess"]
    assert p["asyncInvokeConfig"] == {
        "maxAsyncRetryAttempts": fprops["AsyncConfiguration"]["MaxAsyncRetryAttempts"],
        "maxAsyncEventAgeInSeconds": fprops["AsyncConfiguration"]["MaxAsyncEventAgeInSeconds"],
    }


def test_the_environment_matches_template_yml_with_secrets_from_the_shell():
    _, _, function = template_function()
    template_env = {k: str(v) for k, v in function["Properties"]["EnvironmentVariables"].items()}
    s_env = props()["environmentVariables"]
    assert set(s_env) == set(template_env)
    for name, value in s_env.items():
        if name in SECRET_VARIABLES:
            assert value == f"${{env({name})}}", name  # never a value in the file
        else:
            assert value == template_env[name], name


def test_the_timer_matches_template_yml():
    _, _, function = template_function()
    ((event_name, event),) = function["Events"].items()
    (trigger,) = props()["triggers"]
    assert trigger["triggerName"] == event_name
    assert trigger["triggerType"] == "timer"
    assert trigger["triggerConfig"] == {
        "cronExpression": event["Properties"]["CronExpression"],
        "enable": event["Properties"]["Enable"],
        "payload": event["Properties"]["Payload"],
    }


def test_the_role_comes_from_the_shell():
    assert _ENV_REFERENCE.fullmatch(props()["role"]).group(1) == "FC_ROLE_ARN"
