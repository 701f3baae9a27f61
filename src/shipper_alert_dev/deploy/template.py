"""`make deploy` / `make invoke`: template.yml read into what the FC APIs take.

One service with one function, its timer triggers and its async-invocation config, in the
Funcraft / ROS `Aliyun::Serverless-2018-04-03` format
(https://alibabacloud.com/help/en/ros/user-guide/transform); keys the tools cannot deploy
are reported rather than ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVICE_TYPE = "Aliyun::Serverless::Service"
FUNCTION_TYPE = "Aliyun::Serverless::Function"
SERVICE_KEYS = {"Description", "Role", "Policies", "InternetAccess", "LogConfig"}
FUNCTION_KEYS = {
    "Description",
    "Handler",
    "Runtime",
    "CodeUri",
    "MemorySize",
    "Timeout",
    "InstanceConcurrency",
    "EnvironmentVariables",
    "AsyncConfiguration",
}
TIMER_KEYS = {"CronExpression", "Enable", "Payload"}
ASYNC_KEYS = {
    "MaxAsyncRetryAttempts",
    "MaxAsyncEventAgeInSeconds",
    "Destination",
    "StatefulInvocation",
}


@dataclass(frozen=True)
class Trigger:
    name: str
    config: dict[str, Any]  # TimeTriggerConfig: cronExpression, enable, payload


@dataclass(frozen=True)
class Template:
    path: Path
    service_name: str
    service_description: str | None
    role: str | None
    policies: list[Any]
    internet_access: bool | None
    log_config: dict[str, str] | None
    function_name: str
    function_description: str | None
    handler: str
    runtime: str
    code: Path
    memory_size: int | None
    timeout: int | None
    instance_concurrency: int | None
    environment: dict[str, str]
    async_config: dict[str, Any] | None
    triggers: tuple[Trigger, ...]


def _env_text(value: Any) -> str:
    """A YAML scalar as FC wants it: a string (YAML reads true, 5 and 0.5 as other types)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unknown_keys(where: str, properties: Mapping[str, Any], known: set[str]) -> list[str]:
    return [
        f"template.yml {where}: {key} is not supported by tools/fc.py"
        for key in sorted(set(properties) - known)
    ]


def _integer(where: str, value: Any, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"template.yml {where}: {value!r} is not a whole number")
        return None
    return value


def _async_config(properties: Mapping[str, Any], problems: list[str]) -> dict[str, Any] | None:
    settings = properties.get("AsyncConfiguration")
    if settings is None:
        return None
    if not isinstance(settings, dict):
        problems.append("template.yml AsyncConfiguration: not a mapping")
        return None
    problems.extend(_unknown_keys("AsyncConfiguration", settings, ASYNC_KEYS))
    config: dict[str, Any] = {}
    for key, api_key in (
        ("MaxAsyncRetryAttempts", "maxAsyncRetryAttempts"),
        ("MaxAsyncEventAgeInSeconds", "maxAsyncEventAgeInSeconds"),
    ):
        number = _integer(f"AsyncConfiguration.{key}", settings.get(key), problems)
        if number is not None:
            config[api_key] = number
    destination = settings.get("Destination") or {}
    destinations = {
        api_key: {"destination": destination[key]}
        for key, api_key in (("OnSuccess", "onSuccess"), ("OnFailure", "onFailure"))
        if destination.get(key)
    }
    if destinations:
        config["destinationConfig"] = destinations
    if "StatefulInvocation" in settings:
        config["statefulInvocation"] = bool(settings["StatefulInvocation"])
    return config


def _triggers(function: Mapping[str, Any], problems: list[str]) -> tuple[Trigger, ...]:
    triggers = []
    for name, event in (function.get("Events") or {}).items():
        if not isinstance(event, dict) or str(event.get("Type", "")).lower() != "timer":
            problems.append(f"template.yml Events.{name}: only Timer events are supported")
            continue
        properties = event.get("Properties") or {}
        problems.extend(_unknown_keys(f"Events.{name}", properties, TIMER_KEYS))
        cron = properties.get("CronExpression")
        if not isinstance(cron, str) or not cron.strip():
            problems.append(f"template.yml Events.{name}: CronExpression is required")
            continue
        payload = properties.get("Payload", "")
        if not isinstance(payload, str):
            problems.append(f"template.yml Events.{name}: Payload must be a string")
            continue
        config = {
            "cronExpression": cron.strip(),
            "enable": bool(properties.get("Enable", True)),
            "payload": payload,
        }
        triggers.append(Trigger(name, config))
    return tuple(triggers)


def _the_one(kind: str, mapping: Mapping[str, Any], problems: list[str]):
    """The one (name, resource) of type `kind` in `mapping`, or (None, None) and a problem."""
    candidates = [
        (n, r) for n, r in mapping.items() if isinstance(r, dict) and r.get("Type") == kind
    ]
    if len(candidates) != 1:
        problems.append(f"template.yml: expected exactly one {kind}, found {len(candidates)}")
        return None, None
    return candidates[0]


def read_template(path: Path) -> tuple[Template | None, list[str]]:  # noqa: PLR0912
    problems: list[str] = []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [f"template {path}: cannot be read ({exc.strerror})"]
    except yaml.YAMLError as exc:
        return None, [f"template {path}: not YAML ({exc})"]
    resources = (document or {}).get("Resources") if isinstance(document, dict) else None
    if not isinstance(resources, dict):
        return None, [f"template {path}: no Resources mapping"]
    service_name, service = _the_one(SERVICE_TYPE, resources, problems)
    if service is None:
        return None, problems
    function_name, function = _the_one(FUNCTION_TYPE, service, problems)
    if function is None:
        return None, problems
    sprops = service.get("Properties") or {}
    fprops = function.get("Properties") or {}
    problems.extend(_unknown_keys("service Properties", sprops, SERVICE_KEYS))
    problems.extend(_unknown_keys("function Properties", fprops, FUNCTION_KEYS))

    log_config = None
    if sprops.get("LogConfig"):
        project = sprops["LogConfig"].get("Project")
        logstore = sprops["LogConfig"].get("Logstore")
        if project and logstore:
            # The API's LogConfig keys are project and logstore (FC API LogConfig struct).
            log_config = {"project": str(project), "logstore": str(logstore)}
        else:
            problems.append("template.yml LogConfig: needs both Project and Logstore")
    access = sprops.get("InternetAccess")
    if access is not None and not isinstance(access, bool):
        problems.append("template.yml InternetAccess: must be true or false")
        access = None

    for key in ("Handler", "Runtime", "CodeUri"):
        if not isinstance(fprops.get(key), str) or not fprops[key].strip():
            problems.append(f"template.yml function {function_name}: {key} is required")
    code_uri = str(fprops.get("CodeUri") or "")
    if code_uri.startswith("oss://") or (code_uri and not code_uri.endswith(".zip")):
        problems.append(
            f"template.yml CodeUri: {code_uri!r}: tools/fc.py uploads a local .zip "
            "(the one make package builds)"
        )
    environment = fprops.get("EnvironmentVariables") or {}
    if not isinstance(environment, dict):
        problems.append("template.yml EnvironmentVariables: not a mapping")
        environment = {}
    template = Template(
        path=path,
        service_name=str(service_name),
        service_description=sprops.get("Description"),
        role=sprops.get("Role"),
        policies=list(sprops.get("Policies") or []),
        internet_access=access,
        log_config=log_config,
        function_name=str(function_name),
        function_description=fprops.get("Description"),
        handler=str(fprops.get("Handler") or ""),
        runtime=str(fprops.get("Runtime") or ""),
        code=(path.parent / code_uri).resolve(),
        memory_size=_integer("MemorySize", fprops.get("MemorySize"), problems),
        timeout=_integer("Timeout", fprops.get("Timeout"), problems),
        instance_concurrency=_integer(
            "InstanceConcurrency", fprops.get("InstanceConcurrency"), problems
        ),
        environment={str(k): _env_text(v) for k, v in environment.items()},
        async_config=_async_config(fprops, problems),
        triggers=_triggers(function, problems),
    )
    return template, problems
