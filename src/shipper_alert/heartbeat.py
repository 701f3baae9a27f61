"""HEARTBEAT_URL: a GET at the end of every clean check, for an outside dead-man's switch.

A check is clean when every target was read and everything due was delivered (the
result's `ok`), and it is not a dry run (a dry run from the CLI or `make invoke` must not
stand in for the timer). The switch (Healthchecks.io, Cronitor, an uptime monitor...)
alarms when pings stop, which is how a function that no longer runs at all, or whose
role was revoked, gets noticed. The ping is bounded as a whole by `transport.exchange`
(a peer that trickles its reply cannot hold the function; its reply is capped) and never changes
the result's `ok`; its outcome is reported under `heartbeat`, with the URL redacted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shipper_alert.budget import Deadline
from shipper_alert.redact import Secret, SecretScrubber, redact_url

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = 5.0  # seconds for the whole exchange, at most what the check has left
CONNECT_TIMEOUT = 3.05
MAX_REPLY_BYTES = 64 * 1024  # the reply is not needed; a status page is a few KB


@dataclass(frozen=True)
class HeartbeatResult:
    pinged: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"pinged": self.pinged, "error": self.error}


def _get(url: str, timeout: float) -> None:
    from shipper_alert import transport  # noqa: PLC0415 - requests loads here
    from shipper_alert.bodies import ReplyTooLarge  # noqa: PLC0415
    from shipper_alert.notify.http import new_session  # noqa: PLC0415
    from shipper_alert.watchdog import ExchangeTimeout  # noqa: PLC0415

    with new_session() as session:
        try:
            response = transport.exchange(
                session,
                "GET",
                url,
                seconds=timeout,
                max_bytes=MAX_REPLY_BYTES,
                connect_timeout=CONNECT_TIMEOUT,
            )
        except ExchangeTimeout:
            raise RuntimeError(f"no complete reply within {timeout:.1f}s") from None
        except ReplyTooLarge as exc:
            raise RuntimeError(str(exc)) from None
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code}")


def ping(url: Secret, deadline: Deadline) -> HeartbeatResult:
    """One GET of `url` within HEARTBEAT_TIMEOUT (or what is left of `deadline`)."""
    timeout = max(0.0, min(HEARTBEAT_TIMEOUT, deadline.remaining()))
    where = f"heartbeat ({redact_url(url.reveal())})"
    if timeout <= 0:
        return _failed(f"{where}: no time left in the invocation")
    try:
        _get(url.reveal(), timeout)
    except Exception as exc:  # reported, whatever it is: a ping never fails the check
        reason = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
        return _failed(f"{where}: {reason}")
    log.info("heartbeat sent")
    return HeartbeatResult(True)


def _failed(text: str) -> HeartbeatResult:
    text = SecretScrubber.scrub(text)
    log.warning("%s", text)
    return HeartbeatResult(False, text)
