"""`make deploy` and `make invoke`: shipper-alert on Function Compute 2.0 or 3.0.

FC 2.0 through aliyun-fc2 2.5.2 (shipper_alert_dev.deploy.fc2); FC 3.0 (FC_VERSION=3)
through alibabacloud-fc20230330 (shipper_alert_dev.deploy.fc3). This file is the command
line, the plan and its printing; the variables, template.yml and the function's
environment are read by shipper_alert_dev.deploy.target, .template and .environment.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from shipper_alert.redact import MASK, SecretScrubber
from shipper_alert_dev.deploy import fc2, fc3
from shipper_alert_dev.deploy.checks import (
    placeholder_problems,
    policy_lines,
    role_policy,
    timer_problems,
)
from shipper_alert_dev.deploy.environment import (
    SECRET_FUNCTION_VARIABLES,
    Variable,
    check_function_configuration,
    merge_environment,
)
from shipper_alert_dev.deploy.fc2 import code_size
from shipper_alert_dev.deploy.target import (
    ENV_FILE,
    ENV_PREFIX,
    EVENT,
    FC_ACCOUNT_ID,
    FC_REGION,
    FC_ROLE_ARN,
    Target,
    env_value,
    read_target,
)
from shipper_alert_dev.deploy.template import Template, read_template

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT / "template.yml"

DEFAULT_EVENT = '{"dryRun": true}'
MANAGEMENT_TIMEOUT = 60  # seconds; the SDK's default
INVOKE_MARGIN = 30  # seconds on top of the function's own timeout for a sync reply
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

_ROLE_ARN = re.compile(r"acs:ram::\d+:role/[A-Za-z0-9_.@-]+", re.IGNORECASE)


class ConfigProblems(Exception):
    """What stops the tool before any request: every problem, each naming its variable."""

    def __init__(self, problems: list[str], notes: list[str] | None = None) -> None:
        self.problems = problems
        self.notes = notes or []
        super().__init__("; ".join(problems))


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
    role = env_value(environ, FC_ROLE_ARN) or template.role
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
    region = target.region if target else env_value(environ, FC_REGION)
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
    policy = role_policy(values, region, env_value(environ, FC_ACCOUNT_ID))
    return Plan(target, template, role, environment, warnings_, policy)


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
    print(f"  code        {_shown_path(t.code)} ({code_size(t.code)})", file=out)
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
        fc2.deploy(fc2.make_client(plan.target, MANAGEMENT_TIMEOUT), plan, out)
    print(
        f"Deployed. Check it with `make invoke` (EVENT={DEFAULT_EVENT!r} by default: a dry run).",
        file=out,
    )
    return EXIT_OK


def run_invoke(environ: Mapping[str, str], template_path: Path, out: TextIO, err: TextIO) -> int:
    target, problems = read_target(environ)
    template, template_problems = read_template(template_path)
    problems += template_problems
    event = env_value(environ, EVENT) or DEFAULT_EVENT
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
        client = fc2.make_client(target, timeout)
        with fc2.step(f"invoke {name}", target.endpoint):
            response = fc2.invoke_with_logs(
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
    except (fc2.Failure, fc3.Fc3Failure) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
