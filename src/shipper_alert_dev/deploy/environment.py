"""`make deploy`: the function's environment, merged from template.yml and the overrides.

template.yml's EnvironmentVariables, then SHIPPER_ALERT_ENV_FILE's lines, then FC_ENV_<NAME>
(the last one wins); a name the function does not read is a problem, and every secret value
is registered with the scrubber before anything is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from shipper_alert import envfile
from shipper_alert.config import KNOWN_VARIABLES, SECRET_VARIABLES, TEMPLATE_DIR, inspect_settings
from shipper_alert.redact import MASK, Secret
from shipper_alert.variables import CONTRACT_VARIABLES, suggestion
from shipper_alert_dev.deploy.target import ENV_FILE, ENV_PREFIX, env_value

PLACEHOLDER_REGION = "cn-hangzhou"

# The variables the function reads: shipper_alert.config's names, and the AWS ones boto3
# reads for EMAIL_TRANSPORT=ses (contract, "Where to send").
AWS_VARIABLES = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}
)
FUNCTION_VARIABLES = KNOWN_VARIABLES | CONTRACT_VARIABLES | AWS_VARIABLES
SECRET_FUNCTION_VARIABLES = SECRET_VARIABLES | {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


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
    env_file = env_value(environ, ENV_FILE)
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
