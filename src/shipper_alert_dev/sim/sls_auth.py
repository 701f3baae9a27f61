"""The SLS simulator's request checks: the required headers, the Date skew and the v1
signature, as SLS answers them (codes: https://help.aliyun.com/en/sls/developer-reference/error-codes;
signature: https://help.aliyun.com/document_detail/29012.html and docs/vendors.md, "SLS API").
"""

from __future__ import annotations

import email.utils
import hmac

from shipper_alert.sls import signing
from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.model import Credential

DATE_TOLERANCE_SECONDS = 15 * 60  # RequestTimeExpired beyond 15 minutes of skew


def check_headers(headers: dict[str, str], body: bytes, now: float, check_date: bool) -> None:
    """Raise the ApiError SLS answers for a missing or bad header, or a skewed Date."""
    if "host" not in headers:
        raise ApiError(400, "MissingHost", "Host does not exist in http header.")
    date = headers.get("date") or headers.get("x-log-date")
    if not date:
        raise ApiError(400, "MissingDate", "Date does not exist in http header.")
    version = headers.get("x-log-apiversion")
    if version is None:
        raise ApiError(400, "MissingAPIVersion", "x-log-apiversion does not exist in http header.")
    if version != signing.API_VERSION:
        raise ApiError(400, "InvalidAPIVersion", f"x-log-apiversion {version} is unsupported.")
    method = headers.get("x-log-signaturemethod")
    if method is None:
        raise ApiError(
            400,
            "MissingSignatureMethod",
            "x-log-signaturemethod does not exist in http header.",
        )
    if method not in signing.SIGNATURE_METHODS:
        raise ApiError(
            400, "InvalidSignatureMethod", f"x-log-signaturemethod {method} is unsupported."
        )
    raw_size = headers.get("x-log-bodyrawsize")
    if raw_size is None:
        raise ApiError(
            400,
            "MissingBodyRawSize",
            "x-log-bodyrawsize does not exist in header when it is necessary.",
        )
    if not raw_size.isdigit():
        raise ApiError(400, "InvalidBodyRawSize", "x-log-bodyrawsize is invalid.")
    if body and "content-type" not in headers:
        raise ApiError(
            400,
            "MissingContentType",
            "Content-Type does not exist in http header when body is not empty.",
        )
    md5 = headers.get("content-md5")
    if body and md5 is not None and md5.upper() != signing.content_md5(body):
        raise ApiError(400, "ParameterInvalid", f"Content-MD5 {md5} does not match the body.")
    try:
        sent_at = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        raise ApiError(400, "InvalidDateFormat", f"Date {date} must follow RFC822.") from None
    if check_date and abs(sent_at - now) > DATE_TOLERANCE_SECONDS:
        raise ApiError(
            400,
            "RequestTimeExpired",
            f"Request time {date} has been expired while server time is {signing.http_date(now)}.",
        )


def check_signature(
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    headers: dict[str, str],
    credentials: list[Credential],
) -> None:
    """Raise the ApiError SLS answers for a missing, malformed or wrong signature."""
    authorization = headers.get("authorization")
    if not authorization:
        raise ApiError(401, "Unauthorized", "Authorization does not exist in http header.")
    scheme, _, credential_part = authorization.partition(" ")
    key_id, colon, sent_signature = credential_part.strip().rpartition(":")
    if scheme != "LOG" or not colon or not key_id or not sent_signature:
        raise ApiError(
            400,
            "ParameterInvalid",
            "Authorization header is malformed; expected LOG <AccessKeyId>:<Signature>.",
        )
    credential = next((c for c in credentials if c.access_key_id == key_id), None)
    if credential is None:
        raise ApiError(401, "Unauthorized", "The AccessKeyId is unauthorized.")
    token = headers.get("x-acs-security-token")
    if token != credential.security_token and (token or credential.security_token):
        raise ApiError(401, "Unauthorized", "The security token you provided is invalid.")
    signed = dict(headers)
    signed["date"] = headers.get("date") or headers.get("x-log-date", "")
    text = signing.string_to_sign(method, path, pairs, signed)
    method = headers.get("x-log-signaturemethod", signing.SIGNATURE_METHOD)
    expected = signing.signature(credential.access_key_secret, text, method)
    if not hmac.compare_digest(expected.encode(), sent_signature.encode()):
        raise ApiError(401, "SignatureNotMatch", f"Signature {sent_signature} not matched.")
