"""The FC 2.0 request signature, as a local fake FC API verifies it.

`FC <id>:<base64 HMAC-SHA256>` over the method, Content-MD5, Content-Type, Date, the sorted
`x-fc-*` headers and the unquoted path (https://help.aliyun.com/document_detail/53252.html),
computed the way aliyun-fc2 2.5.2's `fc2/auth.py` does; errors are FC-shaped `FcApiError`s.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

API_VERSION = "2016-08-15"
# "客户端需要保证生成的时间与函数计算服务端的时间相差不超过15分钟"
# (https://help.aliyun.com/document_detail/53252.html)
DATE_TOLERANCE_SECONDS = 15 * 60


def canonical_headers(headers: Mapping[str, str]) -> str:
    """The `x-fc-*` headers, names lower-cased and sorted, as `name:value\\n` each."""
    pairs = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-fc-"))
    return "".join(f"{name}:{value}\n" for name, value in pairs)


def canonical_resource(path: str, query: Mapping[str, list[str]] | None = None) -> str:
    """The unquoted path; for HTTP-trigger `/proxy/` paths also `\\n` and the sorted params."""
    resource = urllib.parse.unquote(path)
    if f"/{API_VERSION}/proxy/" not in path:
        return resource
    params = []
    for key, values in (query or {}).items():
        if values:
            params.extend(f"{key}={value}" for value in values)
        else:
            params.append(key)
    return resource + "\n" + "\n".join(sorted(params))


def string_to_sign(
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]] | None = None,
) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    return "\n".join(
        [
            method.upper(),
            lower.get("content-md5", ""),
            lower.get("content-type", ""),
            lower.get("date", ""),
            canonical_headers(lower) + canonical_resource(path, query),
        ]
    )


def signature(access_key_secret: str, text: str) -> str:
    digest = hmac.new(access_key_secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def authorization(
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]] | None = None,
) -> str:
    """The `Authorization` header value FC expects for this request."""
    text = string_to_sign(method, path, headers, query)
    return f"FC {access_key_id}:{signature(access_key_secret, text)}"


class FcApiError(Exception):
    """An FC API error answer: HTTP status, ErrorCode, ErrorMessage."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FcCredential:
    """An AccessKey pair the stand-in accepts; with a token, requests must carry it."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


def verify_request(
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    credentials: Mapping[str, FcCredential],
    now: float,
) -> FcCredential:
    """The credential that signed the request, or FcApiError (403) saying what is wrong."""
    lower = {k.lower(): v for k, v in headers.items()}
    date = lower.get("date")
    if not date:
        raise FcApiError(
            400, "MissingRequiredHeader", "required HTTP header Date was not specified"
        )
    auth = lower.get("authorization", "")
    match = re.fullmatch(r"FC ([^:\s]+):(\S+)", auth)
    if match is None:
        raise FcApiError(
            403, "AccessDenied", "the Authorization header is missing or not 'FC <id>:<signature>'"
        )
    key_id, given = match.groups()
    credential = credentials.get(key_id)
    if credential is None:
        raise FcApiError(403, "InvalidAccessKeyID", f"invalid access key ID '{key_id}'")
    try:
        sent_at = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        raise FcApiError(400, "InvalidArgument", f"the Date header {date!r} is invalid") from None
    if abs(sent_at - now) > DATE_TOLERANCE_SECONDS:
        raise FcApiError(
            403,
            "RequestTimeTooSkewed",
            "the difference between the request time and the server's time is too large",
        )
    expected = signature(credential.access_key_secret, string_to_sign(method, path, lower, query))
    check_signature_and_token(credential, expected, given, lower.get("x-fc-security-token", ""))
    return credential


def check_signature_and_token(
    credential: FcCredential, expected: str, given: str, token: str
) -> None:
    """FcApiError (403) unless the signature matches and an STS key's token was sent."""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise FcApiError(
            403,
            "SignatureNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your access key and signing method",
        )
    if credential.security_token is not None and not hmac.compare_digest(
        credential.security_token.encode(), token.encode()
    ):
        raise FcApiError(403, "InvalidSecurityToken", "the security token is missing or invalid")
