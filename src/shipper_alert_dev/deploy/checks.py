"""Consistency checks at deploy time, and the least-privilege role policy.

- The timer's period must equal CHECK_INTERVAL: each check covers one interval, so a timer
  firing more often re-checks windows (duplicate alerts without STATE_URL) and one firing
  less often leaves gaps. The period is read from `0 0/N * * * *`-style crons (6 fields,
  seconds first, UTC: https://www.alibabacloud.com/help/en/functioncompute/fc/user-guide/timer-triggers)
  and from `@every <duration>`; a cron whose period cannot be told is refused too.
- The template's placeholder SHIPPERS (`my-project/my-logstore/my-shipper`) is refused.
- The role policy is derived from what the function will read: GetShipperStatus on each
  watched logstore, the listings only for `*`, RetryShipperTask only with AUTO_RETRY,
  the OSS ledger prefix with STATE_URL=oss://, the export-job reads and the diagnostic
  logstore with EXPORTS. Action names and ARN forms:
  https://www.alibabacloud.com/help/en/sls/user-guide/overview-of-ram-authorization and
  https://alibabacloud.com/help/en/sls/user-guide/authorize-a-ram-user-to-ship-data-to-oss
  (docs/vendors.md, "Role policy", says which are not confirmed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shipper_alert.config import AUTO_RETRY, CHECK_INTERVAL, SHIPPERS
from shipper_alert.durations import format_duration, parse_duration
from shipper_alert.models import WILDCARD, ShipperRef

PLACEHOLDER_SHIPPERS = frozenset({"my-project/my-logstore/my-shipper"})
STATE_URL = "STATE_URL"
EXPORTS = "EXPORTS"
DIAGNOSTIC_LOGSTORE = "DIAGNOSTIC_LOGSTORE"
DEFAULT_DIAGNOSTIC_LOGSTORE = "internal-diagnostic_log"

_LIST = re.compile(r"[,\s]+")
_STEP = re.compile(r"(?:\*|0)/(\d+)")
_TRUE = {"true", "1", "yes", "on"}


def _step(field: str, cycle: int) -> int | None:
    """N of `*/N` or `0/N` when N divides the cycle (0/7 minutes is 0, 7, ..., 56, 0: irregular)."""
    match = _STEP.fullmatch(field)
    n = int(match.group(1)) if match else 0
    return n if n > 0 and cycle % n == 0 else None


def timer_period(cron: str) -> int | None:  # noqa: PLR0911 - one return per cron shape
    """Seconds between runs of a regular FC timer expression, or None if it is not regular."""
    text = cron.strip()
    if text.startswith("@every "):
        try:
            return parse_duration(text[len("@every ") :].strip())
        except ValueError:
            return None
    fields = text.split()
    if len(fields) != 6 or fields[0] != "0" or fields[3:] != ["*", "*", "*"]:
        return None
    minutes, hours = fields[1], fields[2]
    if hours == "*":
        if minutes == "*":
            return 60
        if minutes.isdigit():
            return 3600
        n = _step(minutes, 60)
        return n * 60 if n else None
    if minutes.isdigit():
        if hours.isdigit():
            return 24 * 3600
        n = _step(hours, 24)
        return n * 3600 if n else None
    return None


def timer_problems(triggers: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """A problem for each timer whose period is not CHECK_INTERVAL (trigger name -> cron)."""
    try:
        interval = parse_duration(env.get(CHECK_INTERVAL, "").strip() or "5m")
    except ValueError:
        return []  # the configuration check names it
    problems = []
    for name, cron in triggers.items():
        period = timer_period(cron)
        if period is None:
            problems.append(
                f"timer {name}: cannot tell the period of {cron!r}; use '0 0/N * * * *' or "
                f"'@every Nm' so that it can be checked against {CHECK_INTERVAL}"
            )
        elif period != interval:
            problems.append(
                f"timer {name}: fires every {format_duration(period)} but {CHECK_INTERVAL} is "
                f"{format_duration(interval)}: each check covers one {CHECK_INTERVAL}, so "
                "alerts would repeat or windows go unchecked; make them equal"
            )
    return problems


def _items(env: Mapping[str, str], name: str) -> list[str]:
    return [item for item in _LIST.split(env.get(name, "")) if item]


def placeholder_problems(env: Mapping[str, str]) -> list[str]:
    placeholders = sorted(set(_items(env, SHIPPERS)) & PLACEHOLDER_SHIPPERS)
    return [
        f"{SHIPPERS}: {item} is template.yml's placeholder: set the shippers to watch "
        f"(template.yml, the env file or FC_ENV_{SHIPPERS})"
        for item in placeholders
    ]


def _refs(env: Mapping[str, str]) -> list[ShipperRef]:
    refs = []
    texts = _items(env, SHIPPERS)
    single = [env.get(n, "").strip() for n in ("SLS_PROJECT", "SLS_LOGSTORE", "SLS_SHIPPER")]
    if not texts and all(single):
        texts = ["/".join(single)]
    for text in texts:
        try:
            refs.append(ShipperRef.parse(text))
        except ValueError:
            continue  # the configuration check names it
    return refs


def role_policy(env: Mapping[str, str], region: str | None = None, account: str | None = None):
    """The RAM policy document the function's role needs for this environment."""
    arn = f"acs:log:{region or '*'}:{account or '*'}:project"
    statements: list[dict[str, Any]] = []
    refs = _refs(env)
    shipper_actions = ["log:GetShipperStatus"]
    if env.get(AUTO_RETRY, "").strip().lower() in _TRUE:
        shipper_actions.append("log:RetryShipperTask")
    logstores = sorted({f"{arn}/{r.project}/logstore/{r.logstore}" for r in refs})
    if logstores:
        resources = sorted({*logstores, *(f"{x}/*" for x in logstores)})
        statements.append(_allow(shipper_actions, resources))
    listing = [
        (
            "log:ListLogStores",
            {f"{arn}/{r.project}/logstore/*" for r in refs if r.logstore == WILDCARD},
        ),
        (
            "log:ListShipper",
            {f"{arn}/{r.project}/logstore/*" for r in refs if r.shipper == WILDCARD},
        ),
    ]
    for action, resources in listing:
        if resources:
            statements.append(_allow([action], sorted(resources)))
    statements.extend(_state_statements(env))
    statements.extend(_export_statements(env, arn))
    return {"Version": "1", "Statement": statements}


def _allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def _state_statements(env: Mapping[str, str]) -> list[dict[str, Any]]:
    url = env.get(STATE_URL, "").strip()
    if not url.startswith("oss://"):
        return []
    bucket, _, prefix = url[len("oss://") :].partition("/")
    if not bucket:
        return []
    # The ledger's objects only: read, conditional write, and the listing of its prefix.
    objects = f"acs:oss:*:*:{bucket}/{prefix}*"
    return [
        _allow(["oss:GetObject", "oss:PutObject", "oss:GetObjectMeta"], [objects]),
        _allow(["oss:ListObjects"], [f"acs:oss:*:*:{bucket}"]),
    ]


def _export_statements(env: Mapping[str, str], arn: str) -> list[dict[str, Any]]:
    jobs = [item.split("/", 1) for item in _items(env, EXPORTS) if "/" in item]
    if not jobs:
        return []
    projects = sorted({project for project, _ in jobs})
    diagnostic = env.get(DIAGNOSTIC_LOGSTORE, "").strip()
    if "/" in diagnostic:
        project, logstore = diagnostic.split("/", 1)
        logs = [f"{arn}/{project}/logstore/{logstore}"]
    else:
        logs = [f"{arn}/{p}/logstore/{DEFAULT_DIAGNOSTIC_LOGSTORE}" for p in projects]
    job_resources = [
        f"{arn}/{project}/job/{'*' if name == WILDCARD else name}"
        for project, name in sorted(set(map(tuple, jobs)))
    ]
    return [
        _allow(["log:GetJob", "log:ListJobs"], sorted(set(job_resources))),
        # The 2020-12-30 export APIs document no resource ("All Resource").
        _allow(
            [
                "log:ListOSSExports",
                "log:GetOSSExport",
                "log:ListOSSHDFSExports",
                "log:GetOSSHDFSExport",
                "log:ListMaxComputeExports",
                "log:GetMaxComputeExport",
            ],
            ["*"],
        ),
        _allow(["log:GetLogStoreLogs"], logs),
    ]


def policy_lines(policy: Mapping[str, Any]) -> list[str]:
    return [
        f"  Allow {', '.join(s['Action'])} on {', '.join(s['Resource'])}"
        for s in policy["Statement"]
    ]
