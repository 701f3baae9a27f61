"""Links that land: the SLS console page of a shipper or export job in its region, and the
retry command an operator can paste when AUTO_RETRY is off.

The console's logstore search page with `slsRegion` is a confirmed form; the shipper and
export-job pages are inferred (see docs/vendors.md, "Console links"), so every link comes
with the confirmed page of the same project and region as its fallback.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

CONSOLE = "https://sls.console.aliyun.com"
# Confirmed: the form SLS itself writes into alert notifications' query_url
# (https://www.alibabacloud.com/help/en/sls/user-guide/variables-in-new-alert-templates);
# slsRegion is the region parameter of links people share (docs/vendors.md).
LOGSEARCH = "/lognext/project/{project}/logsearch/{logstore}"
# Inferred from the API's resource paths (GET /logstores/{l}/shipper/{s}, GET /ossexports/{n}).
SHIPPER_PAGE = "/lognext/project/{project}/logstore/{logstore}/shipper/{shipper}"
EXPORT_PAGE = "/lognext/project/{project}/export/{job}"
PROJECT_PAGE = "/lognext/project/{project}/overview"
_REGION = re.compile(r"[a-z]{2}(?:-[a-z0-9]+)+")
_ENDPOINT_REGION = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z0-9]+)+?)(?:-intranet|-share)?\.log\.")
RETRY_BATCH = 10  # RetryShipperTask takes at most 10 ids a call (ParameterInvalid otherwise)


def region_from_endpoint(host: str) -> str | None:
    """`cn-hangzhou` from `cn-hangzhou[-intranet|-share].log.aliyuncs.com`, else None."""
    found = _ENDPOINT_REGION.match(host.strip().lower())
    return found.group("region") if found else None


@dataclass(frozen=True)
class ConsoleLink:
    url: str  # the page of the shipper or job itself (inferred form)
    fallback: str  # the logstore or project page in the same region (confirmed form)


def _check_region(region: str) -> None:
    if not _REGION.fullmatch(region):
        raise ValueError(f"region {region!r} is not an Alibaba Cloud region id like cn-hangzhou")


def _path(template: str, **names: str) -> str:
    return template.format(**{key: quote(value, safe="") for key, value in names.items()})


def _with_region(path: str, region: str | None) -> str:
    if region is None:
        return CONSOLE + path
    _check_region(region)
    return f"{CONSOLE}{path}?{urlencode({'slsRegion': region})}"


def shipper_link(region: str | None, project: str, logstore: str, shipper: str) -> ConsoleLink:
    page = _path(SHIPPER_PAGE, project=project, logstore=logstore, shipper=shipper)
    logsearch = _path(LOGSEARCH, project=project, logstore=logstore)
    return ConsoleLink(_with_region(page, region), _with_region(logsearch, region))


def export_link(region: str | None, project: str, job: str, logstore: str) -> ConsoleLink:
    """An export job's page; the fallback is the page of the logstore it reads."""
    page = _path(EXPORT_PAGE, project=project, job=job)
    fallback = _path(LOGSEARCH, project=project, logstore=logstore)
    return ConsoleLink(_with_region(page, region), _with_region(fallback, region))


def project_link(region: str | None, project: str) -> ConsoleLink:
    """The project's page, for a job whose details could not be read."""
    page = _with_region(_path(PROJECT_PAGE, project=project), region)
    return ConsoleLink(page, page)


def retry_commands(
    region: str | None, project: str, logstore: str, shipper: str, task_ids: Sequence[str]
) -> tuple[str, ...]:
    """`aliyunlog log retry_shipper_tasks ...` lines, 10 ids each, every value shell-quoted.

    Flags as the CLI documents them (https://www.alibabacloud.com/help/doc-detail/257898.htm);
    --task_list is a JSON array, which is also a Python list literal, whichever way the CLI
    reads it; --region-endpoint is the public endpoint, since the operator pastes it on
    their own machine, not inside the region's network.
    """
    if not task_ids:
        return ()
    common = [
        "aliyunlog",
        "log",
        "retry_shipper_tasks",
        f"--project_name={shlex.quote(project)}",
        f"--logstore_name={shlex.quote(logstore)}",
        f"--shipper_name={shlex.quote(shipper)}",
    ]
    if region is not None:
        _check_region(region)
        common.append(f"--region-endpoint={region}.log.aliyuncs.com")
    lines = []
    for start in range(0, len(task_ids), RETRY_BATCH):
        batch = list(task_ids[start : start + RETRY_BATCH])
        lines.append(" ".join([*common, f"--task_list={shlex.quote(json.dumps(batch))}"]))
    return tuple(lines)
