"""The SLS error tree, and the one place that maps an SLS response to a class in it.

Error body `{"errorCode", "errorMessage"}`, request id in `x-log-requestid` and the codes:
https://help.aliyun.com/en/sls/developer-reference/error-codes. What the official SDK
retries, and where it falls short (it does not retry connection errors on `https://`
endpoints; this tree treats http and https alike): docs/vendors.md, "SLS API".

    SlsError                    code, message, status, request_id, api, retryable
    ├── SlsTransientError       retried: any 5xx, InternalServerError, RequestTimeout,
    │   │                       ServerBusy, quota and QPS limits
    │   └── SlsConnectionError  refused, reset, dropped, timed out (no HTTP status)
    ├── SlsAuthError            SignatureNotMatch, Unauthorized, InvalidAccessKeyId(.*),
    │                           SecurityToken*, any other 401
    ├── SlsForbiddenError       ProjectForbidden, any other 403
    ├── SlsNotFoundError        ProjectNotExist, LogStoreNotExist, ShipperNotExist, other 404
    ├── SlsRequestError         parameter, header and clock errors, any other 4xx
    └── SlsBadResponseError     not what the API documents (JSON, shape, status)
        └── SlsIncompleteReadError  fewer distinct tasks than `total`, even re-read

Only `SlsTransientError` and its subclass are retried; everything else needs a change of
configuration (or a fix on the server side) before the same request can succeed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ClassVar

from shipper_alert import safe_json
from shipper_alert.errors import ShipperAlertError
from shipper_alert.redact import SecretScrubber

# Codes that a later attempt may well get past.
TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        # RequestTimeout is retried even when it comes with HTTP 400, as the SDK does.
        "RequestTimeout",
        "ServerBusy",
        # Quota and QPS limits: the error-code page does not class them and the SDK does not retry
        # them. A limit measured per second or minute is exactly what a back-off waits out,
        # so we retry them (bounded by attempts and the deadline) rather than give up at once.
        "ReadQuotaExceed",
        "WriteQuotaExceed",
        "MetaOperationQpsLimitExceeded",
    }
)
AUTH_CODES = frozenset({"SignatureNotMatch", "Unauthorized", "InvalidAccessKeyId"})
# Dotted variants (`InvalidAccessKeyId.NotFound`) and the SecurityToken family
# (`SecurityTokenExpired`, `SecurityToken.Expired`) are matched by prefix (SDK `_auth_code_set`).
AUTH_CODE_PREFIXES = ("InvalidAccessKeyId.", "SecurityToken")
FORBIDDEN_CODES = frozenset({"ProjectForbidden"})
NOT_FOUND_CODES = frozenset({"ProjectNotExist", "LogStoreNotExist", "ShipperNotExist"})
REQUEST_CODES = frozenset(
    {
        "ParameterInvalid",
        "RequestTimeExpired",
        "InvalidRequestTime",
        "InvalidHost",
        "PostBodyInvalid",
        "PostBodyTooLarge",
    }
)
# MissingDate, MissingAPIVersion, InvalidDateFormat, InvalidBodyRawSize, ...: header errors.
REQUEST_CODE_PREFIXES = ("Missing", "Invalid")

# Codes this client makes up for failures that carry no SLS error code.
CODE_CONNECTION = "ConnectionError"
CODE_TIMEOUT = "Timeout"
CODE_INCOMPLETE = "IncompleteRead"
CODE_BAD_RESPONSE = "BadResponse"
CODE_DEADLINE = "DeadlineExceeded"

# How much of an unexpected body an error message quotes.
BODY_EXCERPT_CHARS = 200


class SlsError(ShipperAlertError):
    """A failed SLS call: what SLS (or the transport) said, and whether to try again."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str = "",
        api: str = "",
    ) -> None:
        self.code = code
        # SLS may quote a request's header (an STS token) back in its error message.
        self.message = SecretScrubber.scrub(message)
        self.status = status
        self.request_id = request_id
        self.api = api
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.api}: " if self.api else ""
        text += self.code
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __str__(self) -> str:
        return self._describe()

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "requestId": self.request_id,
            "status": self.status,
        }


class SlsTransientError(SlsError):
    """The server or the network failed this time; the same request may succeed later."""

    retryable: ClassVar[bool] = True


class SlsConnectionError(SlsTransientError):
    """No HTTP response: connection refused, reset or dropped, or a connect/read timeout."""


class SlsAuthError(SlsError):
    """The credentials were rejected (bad signature, unknown or disabled key, expired token)."""


class SlsForbiddenError(SlsError):
    """The credentials are valid but may not do this (project disabled, RAM policy)."""


class SlsNotFoundError(SlsError):
    """The project, logstore or shipper does not exist (or lives in another region)."""


class SlsRequestError(SlsError):
    """SLS rejected the request itself: parameters, headers, clock skew, body."""


class SlsBadResponseError(SlsError):
    """The response does not match the API: invalid JSON, wrong shape, unexpected status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str = "",
        api: str = "",
        code: str = CODE_BAD_RESPONSE,
    ) -> None:
        super().__init__(code, message, status=status, request_id=request_id, api=api)


class SlsIncompleteReadError(SlsBadResponseError):
    """Paging ended with fewer distinct items than the server's `total`, even re-read."""


def _is_auth_code(code: str) -> bool:
    return code in AUTH_CODES or code.startswith(AUTH_CODE_PREFIXES)


def _is_request_code(code: str) -> bool:
    return code in REQUEST_CODES or code.startswith(REQUEST_CODE_PREFIXES)


# Checked in order, first match wins: the code decides when it is known (so RequestTimeout
# with HTTP 400 and ReadQuotaExceed with HTTP 403 are transient), otherwise the status.
# The auth rule comes before the request rule: `InvalidAccessKeyId` starts with `Invalid`.
_CODE_RULES: tuple[tuple[Callable[[str], bool], type[SlsError]], ...] = (
    (TRANSIENT_CODES.__contains__, SlsTransientError),
    (_is_auth_code, SlsAuthError),
    (FORBIDDEN_CODES.__contains__, SlsForbiddenError),
    (NOT_FOUND_CODES.__contains__, SlsNotFoundError),
    (_is_request_code, SlsRequestError),
)
_STATUS_CLASSES: dict[int, type[SlsError]] = {
    401: SlsAuthError,
    403: SlsForbiddenError,
    404: SlsNotFoundError,
    # Not an SLS status (https://help.aliyun.com/en/sls/developer-reference/error-codes),
    # but what a gateway in front of it answers to a rate limit: a back-off is the remedy,
    # as for the quota codes.
    429: SlsTransientError,
}


def error_class_for(status: int, code: str) -> type[SlsError]:
    """The class for an error response with HTTP `status` and SLS `errorCode` `code`."""
    if status >= 500:
        return SlsTransientError
    for matches, cls in _CODE_RULES:
        if matches(code):
            return cls
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    return SlsRequestError if 400 <= status < 500 else SlsBadResponseError


def error_for_response(
    status: int,
    code: str,
    message: str,
    request_id: str = "",
    api: str = "",
) -> SlsError:
    """The exception for an SLS error body `{"errorCode": code, "errorMessage": message}`."""
    cls = error_class_for(status, code)
    if cls is SlsBadResponseError:
        return SlsBadResponseError(
            f"unexpected HTTP status {status}",
            status=status,
            request_id=request_id,
            api=api,
            code=code or CODE_BAD_RESPONSE,
        )
    return cls(code, message, status=status, request_id=request_id, api=api)


def excerpt(body: bytes | str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """The first `limit` characters of a body as a one-line JSON string literal."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    quoted = json.dumps(text[:limit], ensure_ascii=False)
    return quoted + ("..." if len(text) > limit else "")


def error_from_http(status: int, body: bytes, request_id: str = "", api: str = "") -> SlsError:
    """The exception for a non-2xx response, whatever its body holds.

    A body without a usable `errorCode` is a 5xx from something in front of SLS (a load
    balancer's HTML page) when the status is >= 500, which is retried; on any other status
    it is a response this client cannot interpret.
    """
    try:
        parsed = safe_json.loads(body) if body else None
    except safe_json.JsonInputError:
        parsed = None
    code = parsed.get("errorCode") if isinstance(parsed, dict) else None
    if isinstance(code, str) and code:
        raw_message = parsed.get("errorMessage") if isinstance(parsed, dict) else None
        message = raw_message if isinstance(raw_message, str) else ""
        return error_for_response(status, code, message, request_id, api)
    what = "no body" if not body else f"no SLS error code in the body: {excerpt(body)}"
    if status >= 500:
        return SlsTransientError(
            CODE_BAD_RESPONSE,
            f"HTTP {status} with {what}",
            status=status,
            request_id=request_id,
            api=api,
        )
    return SlsBadResponseError(
        f"HTTP {status} with {what}", status=status, request_id=request_id, api=api
    )
