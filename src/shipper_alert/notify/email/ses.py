"""Email over AWS SES: `send_raw_email` of the same message, and its failure classes.

boto3 is an optional extra, imported only on this path. The client has explicit timeouts
and `total_max_attempts=1`, so that the delivery stage alone retries, and each call runs
under `watchdog.run_within`, bounded as a whole. Error codes:
https://docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from shipper_alert import USER_AGENT, watchdog
from shipper_alert.notify.base import DeliveryFailure
from shipper_alert.notify.email.message import envelope_address, wire_bytes

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

# https://docs.aws.amazon.com/ses/latest/dg/quotas.html: 50 recipients a message.
SES_MAX_RECIPIENTS = 50
SES_CONNECT_TIMEOUT = 3.05
SES_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def ses_failure(exc: BaseException, where: str) -> DeliveryFailure:
    """Classify what boto3/botocore raised for one `send_raw_email` call."""
    from botocore import exceptions as boto_errors  # noqa: PLC0415 - optional extra

    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code") or "Unknown")
        status = int(meta.get("HTTPStatusCode") or 0)
        detail = f"{where}: {code}"
        if status:
            detail += f" (HTTP {status})"
        if error.get("Message"):
            detail += f": {' '.join(str(error['Message']).split())}"
        if meta.get("RequestId"):
            detail += f" (request id {meta['RequestId']})"
        return DeliveryFailure(detail, retryable=code in SES_RETRYABLE_CODES or status >= 500)
    if isinstance(exc, boto_errors.NoCredentialsError):
        return DeliveryFailure(
            f"{where}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or another source of the standard AWS credential chain)",
            retryable=False,
        )
    if isinstance(exc, boto_errors.SSLError):  # certificate or TLS failure: not transient
        return DeliveryFailure(f"{where}: TLS failed ({exc})", retryable=False)
    if isinstance(exc, (boto_errors.ConnectTimeoutError, boto_errors.ReadTimeoutError)):
        return DeliveryFailure(f"{where}: no answer in time", retryable=True)
    if isinstance(exc, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
        # EndpointConnectionError, ConnectionClosedError, proxy and SSL transport errors
        return DeliveryFailure(f"{where}: connection failed ({type(exc).__name__})", retryable=True)
    return DeliveryFailure(f"{where}: {type(exc).__name__}: {exc}", retryable=False)


class SesSender:
    """One SES client per timeout, from a boto3 session of our own (boto3's default
    session is not thread-safe, and delivery runs each channel in its own thread)."""

    def __init__(self, region: str | None, boto_session: boto3.session.Session | None) -> None:
        self.where = f"email (ses {region})"
        self._region = region
        self._boto_session = boto_session
        self._clients: dict[float, Any] = {}

    def _client(self, timeout: float) -> Any:
        key = round(timeout, 1)
        client = self._clients.get(key)
        if client is None:
            import boto3  # noqa: PLC0415 - optional extra, only on the SES path
            from botocore.config import Config  # noqa: PLC0415

            if self._boto_session is None:
                self._boto_session = boto3.session.Session()
            config = Config(
                region_name=self._region,
                connect_timeout=min(SES_CONNECT_TIMEOUT, timeout),
                read_timeout=timeout,
                retries={"mode": "standard", "total_max_attempts": 1},
                user_agent_extra=USER_AGENT,
            )
            client = self._boto_session.client("ses", config=config)
            self._clients[key] = client
        return client

    def send(self, message: EmailMessage, sender: str, timeout: float) -> None:
        """All or nothing: SES refuses no single recipient."""
        try:
            client = self._client(timeout)
        except ImportError:
            raise DeliveryFailure(
                f"{self.where}: EMAIL_TRANSPORT=ses needs boto3 (pip install 'shipper-alert[ses]')",
                retryable=False,
            ) from None
        try:
            # No Destinations: SES then sends to the To header's addresses (this batch).
            response = watchdog.run_within(
                timeout,
                lambda: client.send_raw_email(
                    Source=envelope_address(sender), RawMessage={"Data": wire_bytes(message)}
                ),
                what="SES call",
            )
        except watchdog.ExchangeTimeout as exc:
            raise DeliveryFailure(f"{self.where}: {exc}", retryable=True) from None
        except Exception as exc:
            raise ses_failure(exc, self.where) from None
        if not (isinstance(response, dict) and response.get("MessageId")):
            raise DeliveryFailure(f"{self.where}: answer without a MessageId", retryable=True)
        log.debug("%s: accepted as %s", self.where, response["MessageId"])

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
