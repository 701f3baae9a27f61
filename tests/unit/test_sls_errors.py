"""Classification of SLS failures into the error tree.

Codes: https://help.aliyun.com/en/sls/developer-reference/error-codes.
"""

from __future__ import annotations

import json

import pytest

from shipper_alert.errors import ShipperAlertError
from shipper_alert.sls.errors import (
    SlsAuthError,
    SlsBadResponseError,
    SlsConnectionError,
    SlsError,
    SlsForbiddenError,
    SlsNotFoundError,
    SlsRequestError,
    SlsTransientError,
    error_for_response,
    error_from_http,
)

# (status, errorCode) -> class
CLASSIFICATION = [
    (500, "InternalServerError", SlsTransientError),
    (500, "RequestTimeout", SlsTransientError),
    (400, "RequestTimeout", SlsTransientError),  # the SDK retries it with 400 too
    (503, "ServerBusy", SlsTransientError),
    (502, "SomethingNew", SlsTransientError),
    (500, "Unauthorized", SlsTransientError),  # any 5xx is worth another try
    (403, "ReadQuotaExceed", SlsTransientError),
    (403, "WriteQuotaExceed", SlsTransientError),
    (403, "MetaOperationQpsLimitExceeded", SlsTransientError),
    (429, "TooManyRequests", SlsTransientError),
    (401, "SignatureNotMatch", SlsAuthError),
    (401, "Unauthorized", SlsAuthError),
    (403, "Unauthorized", SlsAuthError),
    (401, "InvalidAccessKeyId", SlsAuthError),
    (401, "InvalidAccessKeyId.NotFound", SlsAuthError),
    (401, "InvalidAccessKeyId.Inactive", SlsAuthError),
    (401, "SecurityTokenExpired", SlsAuthError),
    (401, "SecurityToken.Expired", SlsAuthError),
    (401, "SecurityTokenMalformed", SlsAuthError),
    (401, "SomethingNew", SlsAuthError),
    (403, "ProjectForbidden", SlsForbiddenError),
    (403, "SomethingNew", SlsForbiddenError),
    (404, "ProjectNotExist", SlsNotFoundError),
    (404, "LogStoreNotExist", SlsNotFoundError),
    (400, "ShipperNotExist", SlsNotFoundError),
    (404, "SomethingNew", SlsNotFoundError),
    (400, "ParameterInvalid", SlsRequestError),
    (400, "RequestTimeExpired", SlsRequestError),
    (400, "InvalidRequestTime", SlsRequestError),
    (400, "InvalidHost", SlsRequestError),
    (400, "PostBodyInvalid", SlsRequestError),
    (413, "PostBodyTooLarge", SlsRequestError),
    (400, "MissingDate", SlsRequestError),
    (400, "InvalidDateFormat", SlsRequestError),
    (400, "MissingAPIVersion", SlsRequestError),
    (400, "InvalidAPIVersion", SlsRequestError),
    (400, "MissingHost", SlsRequestError),
    (400, "MissingBodyRawSize", SlsRequestError),
    (400, "InvalidBodyRawSize", SlsRequestError),
    (400, "SomethingNew", SlsRequestError),
    (409, "SomethingNew", SlsRequestError),
    (302, "SomethingNew", SlsBadResponseError),
]


@pytest.mark.parametrize(
    ("status", "code", "cls"), CLASSIFICATION, ids=[f"{s}-{c}" for s, c, _ in CLASSIFICATION]
)
def test_error_for_response_class(status: int, code: str, cls: type[SlsError]) -> None:
    error = error_for_response(status, code, "msg", "RID", "GetShipperStatus")
    assert type(error) is cls
    assert error.retryable is issubclass(cls, SlsTransientError)
    assert error.status == status
    assert error.request_id == "RID"
    assert error.api == "GetShipperStatus"


def test_tree() -> None:
    assert issubclass(SlsError, ShipperAlertError)
    assert issubclass(SlsConnectionError, SlsTransientError)
    assert SlsConnectionError("ConnectionError", "refused").retryable is True
    for cls in (
        SlsAuthError,
        SlsForbiddenError,
        SlsNotFoundError,
        SlsRequestError,
        SlsBadResponseError,
    ):
        assert not issubclass(cls, SlsTransientError)
        assert cls.retryable is False


def test_str_and_json() -> None:
    error = error_for_response(
        404,
        "ProjectNotExist",
        "Project p does not exist",
        "5B0A6B60BB6EE39764D458B5",
        "GetShipperStatus",
    )
    assert str(error) == (
        "GetShipperStatus: ProjectNotExist (HTTP 404): Project p does not exist "
        "[request 5B0A6B60BB6EE39764D458B5]"
    )
    assert error.to_json() == {
        "code": "ProjectNotExist",
        "message": "Project p does not exist",
        "requestId": "5B0A6B60BB6EE39764D458B5",
        "status": 404,
    }
    assert json.loads(json.dumps(error.to_json())) == error.to_json()


def test_str_of_a_transport_error_has_no_status_or_request() -> None:
    error = SlsConnectionError("ConnectionError", "Connection refused", api="ListShipper")
    assert str(error) == "ListShipper: ConnectionError: Connection refused"
    assert error.to_json() == {
        "code": "ConnectionError",
        "message": "Connection refused",
        "requestId": "",
        "status": None,
    }


def test_unexpected_status_is_a_bad_response() -> None:
    error = error_for_response(302, "Moved", "elsewhere", "R", "ListLogStores")
    assert str(error) == "ListLogStores: Moved (HTTP 302): unexpected HTTP status 302 [request R]"


# (status, body) -> (class, code, message)
HTTP = [
    (
        404,
        b'{"errorCode": "ShipperNotExist", "errorMessage": "shipper s does not exist"}',
        SlsNotFoundError,
        "ShipperNotExist",
        "shipper s does not exist",
    ),
    (
        401,
        b'{"errorCode": "SignatureNotMatch"}',
        SlsAuthError,
        "SignatureNotMatch",
        "",
    ),
    (
        502,
        b"<html>Bad Gateway</html>",
        SlsTransientError,
        "BadResponse",
        'HTTP 502 with no SLS error code in the body: "<html>Bad Gateway</html>"',
    ),
    (503, b"", SlsTransientError, "BadResponse", "HTTP 503 with no body"),
    (
        400,
        b"<html>nope</html>",
        SlsBadResponseError,
        "BadResponse",
        'HTTP 400 with no SLS error code in the body: "<html>nope</html>"',
    ),
    (
        403,
        b'{"message": "denied"}',
        SlsBadResponseError,
        "BadResponse",
        'HTTP 403 with no SLS error code in the body: "{\\"message\\": \\"denied\\"}"',
    ),
    (
        400,
        b"[1, 2]",
        SlsBadResponseError,
        "BadResponse",
        'HTTP 400 with no SLS error code in the body: "[1, 2]"',
    ),
    (
        400,
        b'{"errorCode": 7, "errorMessage": "x"}',
        SlsBadResponseError,
        "BadResponse",
        "HTTP 400 with no SLS error code in the body: "
        + json.dumps('{"errorCode": 7, "errorMessage": "x"}'),
    ),
    (404, b"", SlsBadResponseError, "BadResponse", "HTTP 404 with no body"),
]


@pytest.mark.parametrize(("status", "body", "cls", "code", "message"), HTTP)
def test_error_from_http(
    status: int, body: bytes, cls: type[SlsError], code: str, message: str
) -> None:
    error = error_from_http(status, body, "RID", "GetShipperStatus")
    assert type(error) is cls
    assert (error.code, error.message, error.status, error.request_id) == (
        code,
        message,
        status,
        "RID",
    )


def test_error_from_http_quotes_at_most_200_characters() -> None:
    error = error_from_http(400, b"x" * 500, "", "ListShipper")
    assert error.message == 'HTTP 400 with no SLS error code in the body: "' + "x" * 200 + '"...'
