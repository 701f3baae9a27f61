"""`make deploy` and `make invoke`: shipper-alert on Function Compute 2.0 or 3.0.

FC 2.0 through aliyun-fc2 2.5.2 (this file); FC 3.0 (FC_VERSION=3) through
alibabacloud-fc20230330 (shipper_alert_dev.deploy.fc3). Both read template.yml.

    python tools/fc.py deploy [--template template.yml] [--skip-config-check]
    python tools/fc.py invoke [--template template.yml]

`deploy` uploads the code package that template.yml's CodeUri names
(dist/shipper-alert-fc.zip, built by `make package`) and brings the service, the function,
its timer triggers and its async-invocation config in line with template.yml: each is read
first, created when FC answers 404 and updated otherwise, so running it again changes
what differs and duplicates nothing. The function's environment becomes exactly
template.yml's EnvironmentVariables with the overrides below merged over them; variables
with an empty value are left out (an empty variable counts as unset). Before any request
the merged environment is checked the way the function checks it (shipper_alert.config);
`--skip-config-check` deploys it anyway. So do the deployment's own checks
(shipper_alert_dev.deploy.checks): the timer's period equals CHECK_INTERVAL, SHIPPERS is
not the template's placeholder; and the role policy printed is derived from the
environment (least privilege).

`invoke` invokes the deployed function once, synchronously, with `x-fc-log-type: Tail` and
the event in EVENT (default `{"dryRun": true}`, a check that sends nothing), and prints the
result JSON and the last 4 KB of the function's logs. Exit status 1 when the function
failed (X-Fc-Error-Type) or its result says `"ok": false`.

Variables, all read and checked before any request (every problem at once, exit status 2):
  FC_VERSION              2 (default) or 3
  FC_ENDPOINT             https://<account>.<region>.fc.aliyuncs.com; http:// only to loopback
  FC_ACCOUNT_ID, FC_REGION  build FC_ENDPOINT when it is unset
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN
                          the deployer's key (the token for STS keys); never given to the function
  FC_ROLE_ARN             deploy: the RAM role of the service (unless template.yml sets Role)
  SHIPPER_ALERT_ENV_FILE  deploy: a file of NAME=value lines for the function's environment
  FC_ENV_<NAME>           deploy: one variable of the function's environment, over the file
  EVENT                   invoke: the event, a JSON text

Why a role ARN and not the template's Policies: CreateService takes an existing role
(aliyun-fc2 2.5.2 `create_service`); creating roles and policies is the RAM API, which
aliyun-fc2 does not cover. So the role is made once, and `deploy` prints the policy
template.yml asks for.

Secrets are never printed. The environment listing shows `***` for every value that comes
from SHIPPER_ALERT_ENV_FILE or FC_ENV_* and for the function's secret variables
(shipper_alert.config.SECRET_VARIABLES); every line written goes through the package's
secret scrubber, which knows the deployer's key secret and token and the values of those
secret variables; and the SDK's own error logging (which includes request headers, the
security token among them) is silenced.

SDK quirks handled (docs/vendors.md, "Function Compute 2.0 API"): a function error is HTTP 200 with
X-Fc-Error-Type, and `invoke_function` then raises FcError without the response headers, so
the log tail would be lost: `invoke` makes the same signed request through the client's
`_build_common_headers` and `_do_request` (stable: the SDK is pinned) to keep them. A
non-JSON error body raises requests' JSONDecodeError, not FcError. The SDK retries
connection errors, and 500/502/504 answers to GET and PUT, itself (about 30 s in all) before
raising RetryError or ConnectionError; each is reported as what it is.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import sys
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

import yaml

from shipper_alert import envfile
from shipper_alert.config import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    KNOWN_VARIABLES,
    SECRET_VARIABLES,
    SECURITY_TOKEN,
    TEMPLATE_DIR,
    inspect_settings,
    is_loopback_host,
)
from shipper_alert.redact import MASK, Secret, SecretScrubber
from shipper_alert.variables import CONTRACT_VARIABLES, suggestion
from shipper_alert_dev.deploy import fc3, upsert
from shipper_alert_dev.deploy.checks import (
    placeholder_problems,
    policy_lines,
    role_policy,
    timer_problems,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT / "template.yml"

# Deployment variables.
FC_ENDPOINT = "FC_ENDPOINT"
FC_ACCOUNT_ID = "FC_ACCOUNT_ID"
FC_REGION = "FC_REGION"
FC_ROLE_ARN = "FC_ROLE_ARN"
FC_VERSION = "FC_VERSION"  # 2 (the 2016-08-15 API, aliyun-fc2) or 3 (2023-03-30)
ENV_FILE = "SHIPPER_ALERT_ENV_FILE"
ENV_PREFIX = "FC_ENV_"
EVENT = "EVENT"

DEFAULT_EVENT = '{"dryRun": true}'
PLACEHOLDER_REGION = "cn-hangzhou"
QUALIFIER = "LATEST"  # the unpublished version, which timers invoke by default
MANAGEMENT_TIMEOUT = 60  # seconds; the SDK's default
INVOKE_MARGIN = 30  # seconds on top of the function's own timeout for a sync reply
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

# The variables the function reads: shipper_alert.config's names, and the AWS ones boto3
# reads for EMAIL_TRANSPORT=ses (contract, "Where to send").
AWS_VARIABLES = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}
)
FUNCTION_VARIABLES = KNOWN_VARIABLES | CONTRACT_VARIABLES | AWS_VARIABLES
SECRET_FUNCTION_VARIABLES = SECRET_VARIABLES | {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

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
_ROLE_ARN = re.compile(r"acs:ram::\d+:role/[A-Za-z0-9_.@-]+", re.IGNORECASE)
_FC_HOST = re.compile(r"\d+\.([a-z0-9-]+?)(?:-internal)?\.fc\.aliyuncs\.com")
_REGION = re.compile(r"[a-z]{2,}-[a-z0-9-]+")

HINTS = {
    "SignatureNotMatch": f"check {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}",
    "InvalidAccessKeyID": f"check {ACCESS_KEY_ID}",
    "InvalidSecurityToken": f"check {SECURITY_TOKEN} (needed with STS keys, and it expires)",
    "RequestTimeTooSkewed": "this machine's clock is more than 15 minutes off",
    "AccessDenied": "the key may not manage Function Compute (fc:*) in this account",
    "ServiceNotFound": "run make deploy first",
    "FunctionNotFound": "run make deploy first",
}


class ConfigProblems(Exception):
    """What stops the tool before any request: every problem, each naming its variable."""

    def __init__(self, problems: list[str], notes: list[str] | None = None) -> None:
        self.problems = problems
        self.notes = notes or []
        super().__init__("; ".join(problems))


class Failure(Exception):
    """A request that failed, described for the operator."""


# -- reading the variables -----------------------------------------------------------------
def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Target:
    """Where FC is and who signs the requests."""

    endpoint: str
    region: str | None
    access_key_id: str
    access_key_secret: Secret = field(repr=False)
    security_token: Secret | None = field(repr=False)
    version: int = 2

    @property
    def shown_key(self) -> str:
        return f"{self.access_key_id[:4]}{MASK}"


def _parse_endpoint(text: str, problems: list[str]) -> tuple[str | None, str | None]:
    """(endpoint without a trailing slash, region from an FC host name) or a problem."""
    url = text if "://" in text else f"https://{text}"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        problems.append(f"{FC_ENDPOINT}: {text!r} is not a URL")
        return None, None
    if parts.scheme not in ("http", "https") or not host:
        problems.append(f"{FC_ENDPOINT}: {text!r} is not an http(s) URL with a host")
        return None, None
    if parts.scheme == "http" and not is_loopback_host(host):
        problems.append(
            f"{FC_ENDPOINT}: http:// is allowed only to a loopback address; use https://"
        )
        return None, None
    if parts.path.strip("/") or parts.query or parts.fragment:
        problems.append(f"{FC_ENDPOINT}: {text!r} must be scheme and host only, no path")
        return None, None
    match = _FC_HOST.fullmatch(host)
    return f"{parts.scheme}://{parts.netloc}", match.group(1) if match else None


def read_target(environ: Mapping[str, str]) -> tuple[Target | None, list[str]]:
    problems: list[str] = []
    endpoint_text = _value(environ, FC_ENDPOINT)
    account = _value(environ, FC_ACCOUNT_ID)
    region = _value(environ, FC_REGION)
    if region is not None and not _REGION.fullmatch(region):
        problems.append(f"{FC_REGION}: {region!r} is not a region ID such as cn-hangzhou")
        region = None
    endpoint = None
    if endpoint_text is not None:
        endpoint, host_region = _parse_endpoint(endpoint_text, problems)
        region = region or host_region
    elif account is None or region is None:
        missing = " and ".join(
            name for name, value in ((FC_ACCOUNT_ID, account), (FC_REGION, region)) if not value
        )
        problems.append(
            f"{FC_ENDPOINT}: not set, and {missing} not set to build it "
            "(https://<account>.<region>.fc.aliyuncs.com)"
        )
    elif not account.isdigit():
        problems.append(f"{FC_ACCOUNT_ID}: {account!r} is not an Alibaba Cloud account ID (digits)")
    else:
        endpoint = f"https://{account}.{region}.fc.aliyuncs.com"
    key_id = _value(environ, ACCESS_KEY_ID)
    secret_text = _value(environ, ACCESS_KEY_SECRET)
    token_text = _value(environ, SECURITY_TOKEN)
    # Registered with the scrubber at once, so no later line can show them.
    secret = Secret(secret_text) if secret_text else None
    token = Secret(token_text) if token_text else None
    if key_id is None:
        problems.append(f"{ACCESS_KEY_ID}: not set (the key that deploys and invokes)")
    if secret is None:
        problems.append(f"{ACCESS_KEY_SECRET}: not set")
    version_text = _value(environ, FC_VERSION) or "2"
    if version_text not in ("2", "3"):
        problems.append(
            f"{FC_VERSION}: {version_text!r} is not 2 or 3 (Function Compute 2.0 or 3.0)"
        )
    if problems or endpoint is None or key_id is None or secret is None:
        return None, problems
    return Target(endpoint, region, key_id, secret, token, int(version_text)), []


# -- reading template.yml --------------------------------------------------------------------
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


def _the_one(kind: str, candidates: list[tuple[str, dict]], problems: list[str]):
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
    services = [
        (name, res)
        for name, res in resources.items()
        if isinstance(res, dict) and res.get("Type") == SERVICE_TYPE
    ]
    service_name, service = _the_one(SERVICE_TYPE, services, problems)
    if service is None:
        return None, problems
    functions = [
        (name, res)
        for name, res in service.items()
        if isinstance(res, dict) and res.get("Type") == FUNCTION_TYPE
    ]
    function_name, function = _the_one(FUNCTION_TYPE, functions, problems)
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


# -- the function's environment --------------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    name: str
    value: str = field(repr=False)
    source: str  # "template.yml", ENV_FILE or FC_ENV_<NAME>

    @property
    def secret(self) -> bool:
        return self.source != "template.yml" or self.name in SECRET_FUNCTION_VARIABLES

    @property
    def shown(self) -> str:
        return MASK if self.secret else self.value


def _not_read(name: str) -> str:
    return f"{name} is not a variable shipper-alert reads{suggestion(name, FUNCTION_VARIABLES)}"


def read_env_file(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """NAME=value lines (`export ` and quotes allowed, `#` comments); never echoes a value."""
    lines, problems = envfile.read_env_file(path)
    problems = [f"{ENV_FILE}: {problem}" for problem in problems]
    pairs = []
    for line in lines:
        if line.name not in FUNCTION_VARIABLES:
            problems.append(f"{ENV_FILE}: line {line.number}: {_not_read(line.name)}")
            continue
        pairs.append((line.name, line.value))
    return pairs, problems


def merge_environment(
    template: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[dict[str, Variable], list[str]]:
    """template.yml's variables, then the env file's, then FC_ENV_<NAME>: the last one wins."""
    merged = {name: Variable(name, value, "template.yml") for name, value in template.items()}
    problems = [
        f"template.yml EnvironmentVariables: {_not_read(name)}"
        for name in sorted(set(template) - FUNCTION_VARIABLES)
    ]
    env_file = _value(environ, ENV_FILE)
    if env_file is not None:
        pairs, file_problems = read_env_file(Path(env_file))
        problems.extend(file_problems)
        for name, value in pairs:
            merged[name] = Variable(name, value, ENV_FILE)
    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :]
        if name not in FUNCTION_VARIABLES:
            problems.append(f"{key}: {_not_read(name)}")
            continue
        merged[name] = Variable(name, environ[key], key)
    for variable in merged.values():
        # Registered with the scrubber, so that no line can show it. Only secrets: masking
        # every override (127.0.0.1, none, INFO) wherever it appears would garble the output.
        if variable.name in SECRET_FUNCTION_VARIABLES and variable.value.strip():
            Secret(variable.value)
    return {n: v for n, v in sorted(merged.items()) if v.value.strip()}, problems


def check_function_configuration(env: Mapping[str, str], region: str | None) -> list[str]:
    """The problems the function would report with this environment on FC.

    The context stands in for FC's: its region (on FC there always is one, so an unknown
    region is replaced by any), and the role's STS credentials. TEMPLATE_DIR names a folder
    on FC, which cannot be checked here.
    """
    region = region or PLACEHOLDER_REGION
    environ = {k: v for k, v in env.items() if k != TEMPLATE_DIR}
    placeholder = "role-sts"  # not a credential: FC puts the role's STS keys here at run time
    role = SimpleNamespace(
        access_key_id=placeholder, access_key_secret=placeholder, security_token=placeholder
    )
    context = SimpleNamespace(region=region, credentials=role)
    return [f"function configuration: {p}" for p in inspect_settings(environ, context).problems]


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    target: Target
    template: Template
    role: str
    environment: dict[str, Variable]
    warnings: list[str]
    policy: dict[str, Any] = field(default_factory=dict)  # what the role must allow

    @property
    def env_values(self) -> dict[str, str]:
        return {name: v.value for name, v in self.environment.items()}


def plan_deployment(
    environ: Mapping[str, str], template_path: Path, *, check_config: bool = True
) -> Plan:
    """Everything `deploy` will do, or ConfigProblems listing every problem."""
    target, problems = read_target(environ)
    template, template_problems = read_template(template_path)
    problems += template_problems
    if template is None:
        raise ConfigProblems(problems)
    role = _value(environ, FC_ROLE_ARN) or template.role
    if role is None:
        problems.append(
            f"{FC_ROLE_ARN}: not set, and template.yml's service has no Role: give the ARN of a "
            "RAM role that fc.aliyuncs.com may assume, with the policy make deploy prints"
        )
    elif not _ROLE_ARN.fullmatch(role):
        problems.append(
            f"{FC_ROLE_ARN}: {role!r} is not a role ARN (acs:ram::<account>:role/<name>)"
        )
    if not template.code.is_file():
        problems.append(
            f"template.yml CodeUri: {_shown_path(template.code)} is missing: make package"
        )
    environment, env_problems = merge_environment(template.environment, environ)
    problems += env_problems
    notes = []
    region = target.region if target else _value(environ, FC_REGION)
    values = {name: v.value for name, v in environment.items()}
    if check_config and not env_problems:
        triggers = {t.name: t.config["cronExpression"] for t in template.triggers}
        config_problems = check_function_configuration(values, region)
        config_problems += timer_problems(triggers, values) + placeholder_problems(values)
        if config_problems:
            problems += config_problems
            notes.append(
                "The function would reject its configuration; --skip-config-check deploys anyway."
            )
    warnings_ = [
        f"template.yml sets the secret {name}: keep secrets in {ENV_FILE} or "
        f"{ENV_PREFIX}{name}, not in a file under version control"
        for name, value in template.environment.items()
        if name in SECRET_FUNCTION_VARIABLES and value.strip()
    ]
    if problems or target is None or role is None:
        raise ConfigProblems(problems, notes)
    policy = role_policy(values, region, _value(environ, FC_ACCOUNT_ID))
    return Plan(target, template, role, environment, warnings_, policy)


# -- talking to FC -----------------------------------------------------------------------
def make_client(target: Target, timeout: float):
    import fc2  # noqa: PLC0415 - requirements-deploy.txt, installed by make deploy/invoke

    return fc2.Client(
        endpoint=target.endpoint,
        accessKeyID=target.access_key_id,
        accessKeySecret=target.access_key_secret.reveal(),
        securityToken=target.security_token.reveal() if target.security_token else "",
        Timeout=timeout,
    )


def _error_fields(exc: Exception) -> dict[str, Any]:
    try:
        data = json.loads(getattr(exc, "message", "") or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_code(exc: Exception) -> str:
    return str(_error_fields(exc).get("ErrorCode") or getattr(exc, "err_code", "") or "")


def describe_fc_error(exc: Exception) -> str:
    fields = _error_fields(exc)
    code = error_code(exc) or "error"
    message = fields.get("ErrorMessage") or getattr(exc, "message", "") or str(exc)
    text = f"HTTP {getattr(exc, 'status_code', '?')} {code}: {message}"
    request_id = getattr(exc, "request_id", "")
    if request_id:
        text += f" (request id {request_id})"
    hint = HINTS.get(code)
    return f"{text}; {hint}" if hint else text


@contextmanager
def step(what: str, endpoint: str) -> Iterator[None]:
    """Turn what the SDK raises into a Failure that says which step and why."""
    import fc2  # noqa: PLC0415
    import requests  # noqa: PLC0415

    try:
        yield
    except fc2.FcError as exc:
        raise Failure(f"{what}: {describe_fc_error(exc)}") from None
    except requests.exceptions.JSONDecodeError as exc:
        raise Failure(
            f"{what}: {endpoint} answered with a body that is not FC's JSON (a proxy or a wrong "
            f"FC_ENDPOINT?): {exc.doc[:200]!r}"
        ) from None
    except requests.exceptions.RetryError as exc:
        raise Failure(f"{what}: FC kept failing after the SDK's retries ({exc})") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise Failure(f"{what}: cannot reach {endpoint}: {type(exc).__name__}: {exc}") from None


def _fc_error(status: int, code: str) -> Callable[[Exception], bool]:
    def test(exc: Exception) -> bool:
        import fc2  # noqa: PLC0415

        return isinstance(exc, fc2.FcError) and (exc.status_code, error_code(exc)) == (status, code)

    return test


def _exists(get: Callable[[], Any], not_found: str) -> bool:
    return upsert.exists(get, _fc_error(404, not_found))


def _created_or_updated(
    exists: bool, create: Callable[[], Any], update: Callable[[], Any], conflict: str
) -> str:
    """Create, or update what exists; a create that meets a 409 (a race) updates instead."""
    return upsert.created_or_updated(exists, create, update, _fc_error(409, conflict))


def deploy(client: Any, plan: Plan, out: TextIO) -> None:
    t = plan.template
    endpoint = plan.target.endpoint
    service_fields = {
        "description": t.service_description,
        "logConfig": t.log_config,
        "role": plan.role,
        "internetAccess": t.internet_access,
    }
    with step(f"service {t.service_name}", endpoint):
        done = _created_or_updated(
            _exists(lambda: client.get_service(t.service_name), "ServiceNotFound"),
            lambda: client.create_service(t.service_name, **service_fields),
            lambda: client.update_service(t.service_name, **service_fields),
            "ServiceAlreadyExists",
        )
    print(f"service {t.service_name}: {done}", file=out)

    function_fields = {
        "description": t.function_description,
        "memorySize": t.memory_size,
        "timeout": t.timeout,
        "environmentVariables": plan.env_values,
        "instanceConcurrency": t.instance_concurrency,
        "codeZipFile": str(t.code),
    }
    # create_function has defaults of its own (256 MB, 60 s): send the FC defaults instead.
    create_fields = {**function_fields, "memorySize": t.memory_size or 128}
    create_fields["timeout"] = t.timeout or 3
    with step(f"function {t.function_name}", endpoint), warnings.catch_warnings():
        # The SDK opens codeZipFile and never closes it.
        warnings.simplefilter("ignore", ResourceWarning)
        done = _created_or_updated(
            _exists(
                lambda: client.get_function(t.service_name, t.function_name), "FunctionNotFound"
            ),
            lambda: client.create_function(
                t.service_name, t.function_name, t.runtime, t.handler, **create_fields
            ),
            lambda: client.update_function(
                t.service_name,
                t.function_name,
                handler=t.handler,
                runtime=t.runtime,
                **function_fields,
            ),
            "FunctionAlreadyExists",
        )
    print(f"function {t.function_name}: {done} ({_size(t.code)} of code)", file=out)

    for trigger in t.triggers:
        with step(f"trigger {trigger.name}", endpoint):
            done = _created_or_updated(
                _exists(
                    lambda trigger=trigger: client.get_trigger(
                        t.service_name, t.function_name, trigger.name
                    ),
                    "TriggerNotFound",
                ),
                lambda trigger=trigger: client.create_trigger(
                    t.service_name,
                    t.function_name,
                    trigger.name,
                    "timer",
                    trigger.config,
                    None,
                    None,
                ),
                lambda trigger=trigger: client.update_trigger(
                    t.service_name, t.function_name, trigger.name, triggerConfig=trigger.config
                ),
                "TriggerAlreadyExists",
            )
        print(f"trigger {trigger.name}: {done}", file=out)

    if t.async_config is not None:
        with step("async invocation config", endpoint):
            client.put_function_async_invoke_config(
                t.service_name, QUALIFIER, t.function_name, t.async_config
            )
        print(f"async invocation config ({QUALIFIER}): set", file=out)


def invoke_with_logs(client: Any, service: str, function: str, payload: bytes):
    """A sync invocation whose response keeps its headers even when the function failed.

    `Client.invoke_function` raises FcError for X-Fc-Error-Type and drops the headers,
    X-Fc-Log-Result among them; these are the same two steps it takes, minus that.
    """
    path = f"/{client.api_version}/services/{service}/functions/{function}/invocations"
    headers = {"x-fc-invocation-type": "Sync", "x-fc-log-type": "Tail"}
    signed = client._build_common_headers("POST", path, headers)
    return client._do_request("POST", path, signed, body=payload)


# -- printing ------------------------------------------------------------------------------
class ScrubbingWriter:
    """A text stream that masks every registered secret in what is written to it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(SecretScrubber.scrub(text))

    def flush(self) -> None:
        self.stream.flush()


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KiB" if path.is_file() else "?"


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def print_plan(plan: Plan, out: TextIO) -> None:
    t = plan.template
    target = plan.target
    region = f", region {target.region}" if target.region else ""
    print(
        f"Deploying to {target.endpoint} (Function Compute {target.version}.0) with key "
        f"{target.shown_key}{region}",
        file=out,
    )
    if target.version == 3:
        print(
            f"  fc3         function {fc3.function_name(t)}: FC 3.0 has no service, so the "
            "service's role, internet access and LogConfig are the function's",
            file=out,
        )
    print(f"  template    {_shown_path(t.path)}", file=out)
    print(f"  code        {_shown_path(t.code)} ({_size(t.code)})", file=out)
    access = {True: "on", False: "off", None: "FC default"}[t.internet_access]
    logs = f"{t.log_config['project']}/{t.log_config['logstore']}" if t.log_config else "none"
    print(
        f"  service     {t.service_name}: role {plan.role}, internet access {access}, "
        f"LogConfig {logs}",
        file=out,
    )
    print(
        f"  function    {t.function_name}: {t.handler}, {t.runtime}, {t.memory_size} MB, "
        f"{t.timeout} s, instance concurrency {t.instance_concurrency}",
        file=out,
    )
    for trigger in t.triggers:
        c = trigger.config
        print(
            f"  trigger     {trigger.name}: timer {c['cronExpression']!r}, "
            f"{'enabled' if c['enable'] else 'disabled'}, payload {c['payload']!r}",
            file=out,
        )
    if t.async_config is not None:
        shown = ", ".join(f"{k} {json.dumps(v)}" for k, v in t.async_config.items())
        print(f"  async       {shown}", file=out)
    print(
        f"  environment {len(plan.environment)} variables ({MASK}: a secret, or set by "
        f"{ENV_FILE} / {ENV_PREFIX}<NAME>):",
        file=out,
    )
    for variable in plan.environment.values():
        source = "" if variable.source == "template.yml" else f"  ({variable.source})"
        print(f"    {variable.name}={variable.shown}{source}", file=out)
    lines = policy_lines(plan.policy)
    if lines:
        print(
            "The role must trust fc.aliyuncs.com and allow (least privilege for this "
            "environment; README, Role policy):",
            file=out,
        )
        for line in lines:
            print(line, file=out)
        print("  as a RAM policy document:", file=out)
        print(_indented(json.dumps(plan.policy, indent=2)), file=out)


def _decoded_logs(header: str | None) -> str:
    if not header:
        return ""
    try:
        return base64.b64decode(header).decode("utf-8", errors="replace")
    except ValueError:
        return "(X-Fc-Log-Result is not base64)"


# -- the commands --------------------------------------------------------------------------
def run_deploy(
    environ: Mapping[str, str], template_path: Path, check_config: bool, out: TextIO, err: TextIO
) -> int:
    plan = plan_deployment(environ, template_path, check_config=check_config)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=err)
    print_plan(plan, out)
    if plan.target.version == 3:
        fc3.deploy(fc3.make_client(plan.target, MANAGEMENT_TIMEOUT), plan, out)
    else:
        deploy(make_client(plan.target, MANAGEMENT_TIMEOUT), plan, out)
    print(
        f"Deployed. Check it with `make invoke` (EVENT={DEFAULT_EVENT!r} by default: a dry run).",
        file=out,
    )
    return EXIT_OK


def run_invoke(environ: Mapping[str, str], template_path: Path, out: TextIO, err: TextIO) -> int:
    target, problems = read_target(environ)
    template, template_problems = read_template(template_path)
    problems += template_problems
    event = _value(environ, EVENT) or DEFAULT_EVENT
    try:
        json.loads(event)
    except ValueError as exc:
        problems.append(f"{EVENT}: not JSON ({exc})")
    if problems or target is None or template is None:
        raise ConfigProblems(problems)
    timeout = (template.timeout or 3) + INVOKE_MARGIN
    if target.version == 3:
        name = fc3.function_name(template)
    else:
        name = f"{template.service_name}/{template.function_name}"
    print(f"Invoking {name} at {target.endpoint} with {event}", file=out)
    started = time.monotonic()
    if target.version == 3:
        client = fc3.make_client(target, timeout)
        headers, content = fc3.invoke(client, name, event.encode("utf-8"), target.endpoint)
    else:
        client = make_client(target, timeout)
        with step(f"invoke {name}", target.endpoint):
            response = invoke_with_logs(
                client, template.service_name, template.function_name, event.encode("utf-8")
            )
        headers = {k.lower(): v for k, v in response.headers.items()}
        content = response.content
    elapsed = time.monotonic() - started
    error_type = headers.get("x-fc-error-type")
    request_id = headers.get("x-fc-request-id", "?")
    text = content.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
        shown = json.dumps(body, indent=2, ensure_ascii=False)
    except ValueError:
        body, shown = None, text
    status = f"failed ({error_type})" if error_type else "returned"
    print(f"--- {name} {status} in {elapsed:.1f} s, request id {request_id}", file=out)
    print(f"--- {'error' if error_type else 'result'}:", file=out)
    print(shown, file=out)
    print("--- logs (the last 4 KB):", file=out)
    print(_decoded_logs(headers.get("x-fc-log-result")).rstrip("\n"), file=out)
    if error_type:
        detail = body if isinstance(body, dict) else {}
        kind = detail.get("errorType")
        message = detail.get("errorMessage") or text
        print(
            f"error: the function failed ({error_type}): {f'{kind}: ' if kind else ''}{message}",
            file=err,
        )
        return EXIT_FAILED
    if isinstance(body, dict) and body.get("ok") is False:
        print(
            'error: the function ran, but its result says "ok": false '
            "(a shipper could not be read, or a message was not delivered)",
            file=err,
        )
        return EXIT_FAILED
    return EXIT_OK


def main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    parser = argparse.ArgumentParser(prog="tools/fc.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy_parser = commands.add_parser("deploy", help="create or update everything")
    invoke_parser = commands.add_parser("invoke", help="one synchronous invocation")
    for sub in (deploy_parser, invoke_parser):
        sub.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    deploy_parser.add_argument(
        "--skip-config-check",
        action="store_true",
        help="deploy even if the function would reject its environment",
    )
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    out, err = ScrubbingWriter(out), ScrubbingWriter(err)
    # The SDK logs failed requests with logging.error, request headers (and so the
    # security token) included; without a handler, logging would print them to stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        if args.command == "deploy":
            return run_deploy(environ, args.template, not args.skip_config_check, out, err)
        return run_invoke(environ, args.template, out, err)
    except ConfigProblems as exc:
        count = len(exc.problems)
        print(f"error: cannot {args.command} ({count} problem{'s' * (count != 1)}):", file=err)
        for problem in exc.problems:
            print(f"  {problem}", file=err)
        for note in exc.notes:
            print(note, file=err)
        return EXIT_CONFIG
    except (Failure, fc3.Fc3Failure) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
