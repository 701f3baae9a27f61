"""Unknown variables with the product's prefixes: typos caught before they run silently.

A variable such as `FAIL_TRESHOLD` or `DINGTALK_SECRETT` would otherwise leave the real
setting at its default, so the contract ("Configuration: environment variables") makes
every name with one of the product's prefixes that the product does not read a
configuration error that suggests the nearest real name. The handler, `validate` and
`make deploy` all get these problems through `shipper_alert.config`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Names that start like the product's variables (contract, "Configuration").
PREFIXES = (
    "SLS_",
    "SHIPPER",
    "EXPORT",
    "DINGTALK_",
    "SLACK_",
    "WECOM_",
    "FEISHU_",
    "WEBHOOK_",
    "EMAIL_",
    "SMTP_",
    "SES_",
    "FAIL_",
    "RUNNING_",
    "STALL_",
    "REMIND_",
    "NOTIFY_",
    "ALERT_",
    "CHECK_",
    "LOOKBACK",
    "SETTLE_",
    "AUTO_",
    "TEMPLATE_",
    "STATE_",
    "HEARTBEAT_",
)

# Variables of the contract that some part of the product reads, whether or not the
# module reading them exists yet in this checkout; add a name here when it is specified.
CONTRACT_VARIABLES = frozenset(
    {
        "STATE_URL",
        "EXPORTS",
        "DIAGNOSTIC_LOGSTORE",
        "EXPORT_LAG_THRESHOLD",
        "EXPORT_FAILED_ROWS_THRESHOLD",
        "HEARTBEAT_URL",
        "ALERT_LABEL",
    }
)
# Read by the deployment tools (tools/fc.py), not the function, but set in the same shell.
TOOL_VARIABLES = frozenset({"SHIPPER_ALERT_ENV_FILE"})

_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def names_from_constants(namespace: Mapping[str, Any]) -> frozenset[str]:
    """The variable names a settings module defines as upper-case string constants."""
    return frozenset(
        value
        for name, value in namespace.items()
        if name.isupper() and isinstance(value, str) and _VARIABLE_NAME.fullmatch(value)
    )


def has_product_prefix(name: str) -> bool:
    return name.startswith(PREFIXES)


def suggestion(name: str, known_names: Iterable[str]) -> str:
    """`; did you mean X?` for the nearest known name, or '' when none is near."""
    import difflib  # noqa: PLC0415 - only for a misspelt name

    close = difflib.get_close_matches(name, sorted(known_names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def unknown_variable_problems(environ: Mapping[str, str], known_names: Iterable[str]) -> list[str]:
    """One problem per set variable with a product prefix that the product does not read.

    The value is never shown: a misspelt secret is still a secret. An empty value counts as
    unset, as for every variable.
    """
    known = frozenset(known_names) | CONTRACT_VARIABLES | TOOL_VARIABLES
    return [
        f"{name}: is not a variable shipper-alert reads{suggestion(name, known)}"
        for name in sorted(environ)
        if has_product_prefix(name) and name not in known and str(environ[name]).strip()
    ]
