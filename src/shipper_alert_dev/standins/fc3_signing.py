"""The V3 request signature (ACS3-HMAC-SHA256) as the FC 3.0 stand-in checks it.

`ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b;c>,Signature=<hex>`: HMAC-SHA256 with
the key secret over `ACS3-HMAC-SHA256\n<hex SHA-256 of the canonical request>`, where the
canonical request is the method, the path, the sorted query, each signed header as
`name:value`, the signed header names and the body's SHA-256 (`x-acs-content-sha256`)
(https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).
The error codes for a bad signature, key, token or date are ours (as in the FC 2.0 stand-in).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from datetime import datetime, timezone

from shipper_alert_dev.standins.base import Received
from shipper_alert_dev.standins.fc_signing import (
    DATE_TOLERANCE_SECONDS,
    FcApiError,
    FcCredential,
    check_signature_and_token,
)

SIGNATURE_ALGORITHM = "ACS3-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    SIGNATURE_ALGORITHM + r" Credential=([^,\s]+),SignedHeaders=([^,\s]+),Signature=([0-9a-f]+)"
)


def canonical_query(query: Mapping[str, list[str]]) -> str:
    pairs = sorted((key, values[-1] if values else "") for key, values in query.items())
    return "&".join(f"{key}={urllib.parse.quote(value, safe='~')}" for key, value in pairs)


def canonical_request(
    method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str], signed: str
) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    names = signed.split(";")
    canonical = "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in names)
    return "\n".join(
        [
            method.upper(),
            urllib.parse.unquote(path) or "/",
            canonical_query(query),
            canonical,
            signed,
            lower.get("x-acs-content-sha256", ""),
        ]
    )


def v3_signature(access_key_secret: str, request_text: str) -> str:
    digest = hashlib.sha256(request_text.encode("utf-8")).hexdigest()
    text = f"{SIGNATURE_ALGORITHM}\n{digest}"
    return hmac.new(access_key_secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify_v3_request(
    request: Received, credentials: Mapping[str, FcCredential], now: float
) -> FcCredential:
    """The credential that signed the request, or FcApiError saying what is wrong."""
    headers = request.headers
    match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if match is None:
        raise FcApiError(
            403, "AccessDenied", f"the Authorization header is missing or not {SIGNATURE_ALGORITHM}"
        )
    key_id, signed, given = match.groups()
    credential = credentials.get(key_id)
    if credential is None:
        raise FcApiError(403, "InvalidAccessKeyID", f"invalid access key ID '{key_id}'")
    required = {"host", "x-acs-date", "x-acs-content-sha256"}
    if not required <= set(signed.split(";")):
        raise FcApiError(403, "AccessDenied", f"SignedHeaders must include {sorted(required)}")
    try:
        sent_at = datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise FcApiError(400, "InvalidArgument", "the x-acs-date header is invalid") from None
    if abs(sent_at.replace(tzinfo=timezone.utc).timestamp() - now) > DATE_TOLERANCE_SECONDS:
        raise FcApiError(
            403,
            "RequestTimeTooSkewed",
            "the difference between the request time and the server's time is too large",
        )
    if hashlib.sha256(request.body).hexdigest() != headers.get("x-acs-content-sha256"):
        raise FcApiError(400, "InvalidArgument", "x-acs-content-sha256 is not the body's SHA-256")
    text = canonical_request(request.method, request.path, request.query, headers, signed)
    expected = v3_signature(credential.access_key_secret, text)
    check_signature_and_token(credential, expected, given, headers.get("x-acs-security-token", ""))
    return credential
