"""The SLS simulator's answers: JSON bodies, SLS error bodies and injected faults' replies.

Errors are `{"errorCode", "errorMessage"}` with an `x-log-requestid`
(https://help.aliyun.com/en/sls/developer-reference/error-codes).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.faults import Fault


@dataclass
class Response:
    """What the simulator answers; `drop` closes the connection without an answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    error_code: str | None = None


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json"})


def error_response(error: ApiError) -> Response:
    response = json_response({"errorCode": error.code, "errorMessage": error.message}, error.status)
    response.error_code = error.code
    return response


def new_request_id() -> str:
    """24 upper-case hex digits, like `5642FC2399248C8F7B0145FD`."""
    return secrets.token_hex(12).upper()


def fault_response(fault: Fault) -> Response:
    assert fault.status is not None
    if fault.error_code is not None:
        response = error_response(
            ApiError(fault.status, fault.error_code, fault.error_message or "")
        )
    elif fault.json is not None:
        response = json_response(fault.json, fault.status)
    elif fault.body is not None:
        raw = fault.body.encode("utf-8") if isinstance(fault.body, str) else fault.body
        response = Response(fault.status, raw, {"Content-Type": "text/plain; charset=utf-8"})
    else:
        response = Response(fault.status)
    response.headers.update(fault.headers)
    return response
