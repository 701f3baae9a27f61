"""SLS request signature, version 1 (`hmac-sha1`), byte-identical to aliyun-log-python-sdk.

The 2020-12-30 SDKs sign the same string with HMAC-SHA256 and say so in
`x-log-signaturemethod: hmac-sha256` (alibabacloud-gateway-sls `GetSignature`); `signature`
takes either method, so the simulator verifies what each SDK sends.

The string-to-sign, canonical headers and canonical resource (and the test vectors in
tests/unit/test_sls_signing.py) are taken from the SDK's `auth.py`
`AuthV1.sign_request` and `util.py` `Util.canonicalized_*`, and the official formula at
https://help.aliyun.com/document_detail/29012.html.

The same functions serve the client (which signs) and the local simulator (which
verifies): a server lower-cases header names and skips `x-log-date`, which the SDK adds
after signing (docs/vendors.md, "SLS API").
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
from collections.abc import Iterable, Mapping

API_VERSION = "0.6.0"
SIGNATURE_METHOD = "hmac-sha1"
SIGNATURE_METHOD_SHA256 = "hmac-sha256"
_DIGESTS = {SIGNATURE_METHOD: hashlib.sha1, SIGNATURE_METHOD_SHA256: hashlib.sha256}
SIGNATURE_METHODS = tuple(_DIGESTS)
# Headers the SDK sets after computing the signature, so they are not part of it.
UNSIGNED_LOG_HEADERS = frozenset({"x-log-date"})


def http_date(epoch_seconds: float) -> str:
    """RFC 1123 date in GMT, independent of the locale (`Wed, 11 Nov 2015 08:28:19 GMT`)."""
    return email.utils.formatdate(epoch_seconds, usegmt=True)


def content_md5(body: bytes) -> str:
    """Upper-case hex MD5 of the body, as the SDK's `Util.cal_md5` computes it."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest().upper()


def is_signed_header(name: str) -> bool:
    lower = name.lower()
    if lower in UNSIGNED_LOG_HEADERS:
        return False
    return lower.startswith("x-acs-") or (
        lower.startswith("x-log-") and not lower.startswith("x-log-meta-")
    )


def canonical_headers(headers: Mapping[str, str]) -> str:
    """One `name:value\\n` line per signed header, names sorted (the SDK's plain sort)."""
    return "".join(
        f"{name}:{headers[name]}\n" for name in sorted(headers) if is_signed_header(name)
    )


def canonical_resource(path: str, params: Iterable[tuple[str, str]]) -> str:
    """Path plus the query sorted by key, values raw (not URL-encoded); no `?` if empty."""
    pairs = sorted((str(k), str(v)) for k, v in params)
    if not pairs:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in pairs)


def string_to_sign(
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
) -> str:
    """The v1 string-to-sign. `headers` must hold Date and, with a body, Content-MD5/-Type.

    Header names are looked up case-insensitively for the fixed lines, and the canonical
    header block uses the names as given (the SDK and our client use lower case).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    return (
        method.upper()
        + "\n"
        + lowered.get("content-md5", "")
        + "\n"
        + lowered.get("content-type", "")
        + "\n"
        + lowered.get("date", "")
        + "\n"
        + canonical_headers(headers)
        + canonical_resource(path, params)
    )


def signature(access_key_secret: str, text: str, method: str = SIGNATURE_METHOD) -> str:
    """base64 of the HMAC of `text` with the digest that `method` names."""
    digest = hmac.new(access_key_secret.encode("utf-8"), text.encode("utf-8"), _DIGESTS[method])
    return base64.b64encode(digest.digest()).decode("ascii")


def authorization(
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
) -> str:
    """The `Authorization` header value: `LOG <AccessKeyId>:<signature>`."""
    text = string_to_sign(method, path, params, headers)
    return f"LOG {access_key_id}:{signature(access_key_secret, text)}"
