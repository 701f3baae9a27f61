"""`validate --online`: read each configured target once and say what is wrong.

One request a target proves the credentials, the endpoint, the names and the permission
together: GetShipperStatus over the last hour for a shipper, ListLogStores or ListShipper
for a `*` pattern. A failure is explained by its SLS error code
(https://help.aliyun.com/en/sls/developer-reference/error-codes) in terms of the variable
to fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from shipper_alert.budget import Deadline
from shipper_alert.config import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN, Settings
from shipper_alert.models import WILDCARD, ShipperRef
from shipper_alert.sls.errors import SlsError

PROBE_SPAN = 3600  # seconds of tasks a shipper probe asks for
ONLINE_TIMEOUT = 30.0  # seconds for all probes together

# SLS error code -> what to fix (codes: the error-code page above; RAM actions:
# https://www.alibabacloud.com/help/en/sls/user-guide/overview-of-ram-authorization).
HINTS = {
    "SignatureNotMatch": f"the access key secret is wrong: check {ACCESS_KEY_SECRET}",
    "InvalidAccessKeyId": f"the access key ID is unknown: check {ACCESS_KEY_ID}",
    "InvalidAccessKeyId.NotFound": f"the access key ID is unknown: check {ACCESS_KEY_ID}",
    "SecurityTokenExpired": f"the STS token has expired: renew {SECURITY_TOKEN}",
    "Unauthorized": (
        "the access key is not accepted, or lacks the permission for this call: check "
        f"{ACCESS_KEY_ID}, {ACCESS_KEY_SECRET} and the RAM policy (see README, Role policy)"
    ),
    "ProjectForbidden": "the project is disabled or the key may not use it",
    "ProjectNotExist": "no such project at this endpoint: check the name and SLS_ENDPOINT's region",
    "LogStoreNotExist": "no such logstore in the project: check the name",
    "ShipperNotExist": (
        "no such shipper in the logstore: check the name (a legacy shipper replaced by an "
        "export job belongs in EXPORTS)"
    ),
    "ConnectionError": "SLS_ENDPOINT cannot be reached from here",
    "Timeout": "SLS_ENDPOINT did not answer in time",
}
# Unauthorized names the key when the key itself is refused (seen in its message).
_KEY_REFUSED = "accesskeyid"


@dataclass(frozen=True)
class Probe:
    target: str
    ok: bool
    detail: str


def hint(error: SlsError) -> str:
    if error.code == "Unauthorized" and _KEY_REFUSED in error.message.lower():
        return f"the access key is wrong: check {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}"
    return HINTS.get(error.code) or HINTS.get(error.code.split(".")[0], "")


def _probe(client, ref: ShipperRef, now: float) -> str:
    if ref.logstore == WILDCARD:
        names = client.list_logstores(ref.project)
        return f"readable: {len(names)} logstore(s) in {ref.project}"
    if ref.shipper == WILDCARD:
        names = client.list_shippers(ref.project, ref.logstore)
        return f"readable: {len(names)} shipper(s) in {ref.project}/{ref.logstore}"
    end = int(now)
    pages = client.iter_task_pages(ref.project, ref.logstore, ref.shipper, end - PROBE_SPAN, end)
    page = next(iter(pages))
    return f"readable: {page.total} task(s) created in the last hour"


def probe_targets(
    settings: Settings,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Probe]:
    """One Probe per configured target, in the configured order."""
    from shipper_alert.sls.client import SlsClient  # noqa: PLC0415 - requests loads here

    probes = []
    with SlsClient(
        settings.endpoint,
        settings.credentials,
        deadline=Deadline(ONLINE_TIMEOUT),
        clock=now,
        sleep=sleep,
        max_attempts=2,
    ) as client:
        for ref in settings.shippers:
            try:
                probes.append(Probe(str(ref), True, _probe(client, ref, now())))
            except SlsError as exc:
                text = f"{exc.code}: {exc.message}"
                if exc.request_id:
                    text += f" (request id {exc.request_id})"
                advice = hint(exc)
                probes.append(Probe(str(ref), False, f"{text}; {advice}" if advice else text))
    return probes
