"""The HTTP side shared by the webhook channels: one pooled session, explicit timeouts,
and the failure classification every JSON webhook has in common.

- transport errors and timeouts: retryable;
- HTTP 429: retryable, honouring `Retry-After` (seconds or an HTTP date);
- HTTP 5xx: retryable;
- any other non-2xx: permanent (auth, bad request, gone);
- 2xx: returned to the channel, which decides from the body (DingTalk/WeCom `errcode`,
  Feishu `code`, Slack `ok`), since "a 2xx is not success until the body says so".
Error details name the service and the redacted URL, never the URL itself.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from shipper_alert import USER_AGENT, safe_json, transport
from shipper_alert.bodies import CHAT_REPLY_BYTES, ReplyTooLarge, ReplyUndecodable
from shipper_alert.notify.base import DeliveryFailure, Notifier
from shipper_alert.redact import Secret, SecretScrubber, redact_url
from shipper_alert.watchdog import ExchangeTimeout

CONNECT_TIMEOUT = 3.05
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# How much of an unexpected response body an error quotes.
BODY_EXCERPT = 200


def new_session() -> requests.Session:
    return transport.new_session(pool_size=2, user_agent=USER_AGENT)


def encode_json(payload: Any, *, compact: bool = True) -> bytes:
    """A JSON body exactly as sent and as measured: UTF-8, so CJK takes 3 bytes a character
    (`requests`' own `json=` would escape it as 6-byte `\\uXXXX`)."""
    separators = (",", ":") if compact else None
    return json.dumps(payload, ensure_ascii=False, separators=separators).encode("utf-8")


def excerpt(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT else text[: BODY_EXCERPT - 3] + "..."


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def post(
    session: requests.Session,
    service: str,
    url: str,
    timeout: float,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    rate_limit_headers: Sequence[str] = ("Retry-After",),
) -> requests.Response:
    """POST once; raise DeliveryFailure for transport errors and non-2xx statuses.

    On a 429 the first of `rate_limit_headers` present says how long to wait (seconds or
    an HTTP date); services that name it otherwise pass their own header names.
    """
    where = f"{service} ({redact_url(url)})"
    try:
        response = transport.exchange(
            session,
            "POST",
            url,
            seconds=timeout,
            max_bytes=CHAT_REPLY_BYTES,
            connect_timeout=CONNECT_TIMEOUT,
            json=json_body,
            data=data,
            headers=headers,
            params=params,
        )
    except (ExchangeTimeout, requests.Timeout):
        raise DeliveryFailure(
            f"{where}: no response within {timeout:.1f}s", retryable=True
        ) from None
    except requests.ConnectionError as exc:
        reason = type(exc.args[0]).__name__ if exc.args else type(exc).__name__
        raise DeliveryFailure(f"{where}: connection failed ({reason})", retryable=True) from None
    except (ReplyTooLarge, ReplyUndecodable) as exc:
        # The post reached the service; its reply is what cannot be read.
        raise DeliveryFailure(f"{where}: {exc}", retryable=True) from None
    except requests.RequestException as exc:
        raise DeliveryFailure(f"{where}: {type(exc).__name__}", retryable=False) from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    body = SecretScrubber.scrub(excerpt(response.content))
    detail = f"{where}: HTTP {status}: {body}"
    if status == 429:
        waits = (retry_after_seconds(response.headers.get(name)) for name in rate_limit_headers)
        after = next((wait for wait in waits if wait is not None), None)
        raise DeliveryFailure(detail, retryable=True, retry_after=after, status=status, body=body)
    raise DeliveryFailure(detail, retryable=status >= 500, status=status, body=body)


def json_body(response: requests.Response, service: str) -> dict[str, Any]:
    """The response's JSON object, or a retryable failure (a proxy's HTML error page)."""
    try:
        body = safe_json.loads(response.content, max_bytes=CHAT_REPLY_BYTES)
    except safe_json.JsonInputError as exc:
        raise DeliveryFailure(
            f"{service}: HTTP {response.status_code} with a body that is {exc}: "
            f"{SecretScrubber.scrub(excerpt(response.content))}",
            retryable=True,
        ) from None
    if not isinstance(body, dict):
        raise DeliveryFailure(
            f"{service}: unexpected response {excerpt(response.content)}", retryable=True
        )
    return body


class HttpNotifier(Notifier):
    """A channel that POSTs to a webhook: its settings, a pooled session, a clock."""

    def __init__(
        self,
        settings: Any,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._own_session = session is None
        self._session = session or new_session()
        self._clock = clock

    def url(self) -> Secret:
        """The configured webhook URL (a secret: it carries the token)."""
        return self._settings.webhook_url

    def where(self) -> str:
        """How errors name this channel: the service and the redacted URL."""
        return f"{self.name} ({redact_url(self.url().reveal())})"

    def post_json(
        self, body: bytes, timeout: float, headers: dict[str, str] | None = None, **options: Any
    ) -> requests.Response:
        """POST the exact JSON bytes once (see `post` for what raises)."""
        return post(
            self._session,
            self.name,
            self.url().reveal(),
            timeout,
            data=body,
            headers={**JSON_HEADERS, **(headers or {})},
            **options,
        )

    def close(self) -> None:
        if self._own_session:
            self._session.close()
