"""HEARTBEAT_URL: a GET at the end of every clean check, for an outside dead-man's switch.

A check is clean when every target was read and everything due was delivered (the
result's `ok`), and it is not a dry run (a dry run from the CLI or `make invoke` must not
stand in for the timer). The switch (Healthchecks.io, Cronitor, an uptime monitor...)
alarms when pings stop, which is how a function that no longer runs at all, or whose
role was revoked, gets noticed. The ping is bounded as a whole (a thread joined with a
timeout, so a peer that trickles its reply cannot hold the function) and never changes
the result's `ok`; its outcome is reported under `heartbeat`, with the URL redacted.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from shipper_alert.budget import Deadline
from shipper_alert.redact import Secret, SecretScrubber, redact_url

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = 5.0  # seconds for the whole exchange, at most what the check has left
CONNECT_TIMEOUT = 3.05
MAX_REPLY_BYTES = 1024  # the reply is not needed: read a little so the connection completes


@dataclass(frozen=True)
class HeartbeatResult:
    pinged: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"pinged": self.pinged, "error": self.error}


def _get(url: str, timeout: float) -> None:
    from shipper_alert.notify.http import new_session  # noqa: PLC0415 - requests loads here

    with new_session() as session:
        response = session.get(
            url,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            stream=True,
            allow_redirects=False,
        )
        with response:
            response.raw.read(MAX_REPLY_BYTES)
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"HTTP {response.status_code}")


def ping(url: Secret, deadline: Deadline) -> HeartbeatResult:
    """One GET of `url` within HEARTBEAT_TIMEOUT (or what is left of `deadline`)."""
    timeout = max(0.0, min(HEARTBEAT_TIMEOUT, deadline.remaining()))
    where = f"heartbeat ({redact_url(url.reveal())})"
    if timeout <= 0:
        return _failed(f"{where}: no time left in the invocation")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            _get(url.reveal(), timeout)
        except BaseException as exc:  # reported below, whatever it is
            errors.append(exc)

    worker = threading.Thread(target=run, name="heartbeat", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return _failed(f"{where}: no complete reply within {timeout:.1f}s")
    if errors:
        exc = errors[0]
        reason = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
        return _failed(f"{where}: {reason}")
    log.info("heartbeat sent")
    return HeartbeatResult(True)


def _failed(text: str) -> HeartbeatResult:
    text = SecretScrubber.scrub(text)
    log.warning("%s", text)
    return HeartbeatResult(False, text)
