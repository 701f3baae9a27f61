"""A loopback stand-in for an OSS bucket: GetObject and PutObject, V4-signed.

Each request's Authorization is recomputed with the vendor's own signer
(`alibabacloud-oss-v2`, a dev dependency), so a request our signer got wrong is refused
with 403 SignatureDoesNotMatch as OSS refuses it. PutObject honours
`x-oss-forbid-overwrite: true` (409 FileAlreadyExists) and, like OSS, answers a conditional
header (If-Match, If-None-Match, ...) with 400 NotImplemented
(https://help.aliyun.com/en/oss/user-guide/0017-00000245); a Content-MD5 that does not match
the body is 400 InvalidDigest. Error bodies are OSS's XML.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import datetime, timezone

from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer.v4 import SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext

from shipper_alert_dev.standins.base import Received, Reply, StandIn

CONDITIONAL = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


def _error(status: int, code: str, message: str) -> Reply:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}"
    body += "</Message><RequestId>standin</RequestId></Error>"
    headers = {"Content-Type": "application/xml", "x-oss-request-id": "standin"}
    return Reply(status, body.encode(), headers)


class OssStandIn(StandIn):
    name = "oss"

    def __init__(
        self,
        bucket: str,
        access_key_id: str,
        access_key_secret: str,
        region: str = "cn-hangzhou",
        security_token: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.bucket = bucket
        self.region = region
        self.objects: dict[str, bytes] = {}
        self._provider = StaticCredentialsProvider(access_key_id, access_key_secret, security_token)
        self._objects_lock = threading.Lock()

    def expected_authorization(self, request: Received, key: str) -> str:
        stamp = request.headers.get("x-oss-date", "")
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        vendor = HttpRequest(request.method, f"http://{request.headers['host']}/{key}", headers)
        context = SigningContext(
            product="oss",
            region=self.region,
            bucket=self.bucket,
            key=key,
            request=vendor,
            credentials=self._provider.get_credentials(),
            signing_time=moment,
        )
        SignerV4().sign(context)
        return vendor.headers["Authorization"]

    def _expected_or_none(self, request: Received, key: str) -> str | None:
        try:
            return self.expected_authorization(request, key)
        except (ValueError, KeyError):  # no or a malformed x-oss-date
            return None

    def _refusal(self, request: Received, key: str) -> Reply | None:
        """OSS's error for a request it would not serve, checked in OSS's order."""
        if not request.headers.get("host", "").startswith(f"{self.bucket}."):
            return _error(404, "NoSuchBucket", "The specified bucket does not exist.")
        if request.headers.get("authorization") != self._expected_or_none(request, key):
            return _error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if request.method not in ("GET", "PUT"):
            return _error(405, "MethodNotAllowed", "The specified method is not allowed.")
        if request.method == "PUT" and any(name in request.headers for name in CONDITIONAL):
            return _error(400, "NotImplemented", "A header you provided implies functionality.")
        md5 = request.headers.get("content-md5")
        if md5 and md5 != base64.b64encode(_md5(request.body)).decode():
            return _error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
        return None

    def answer(self, request: Received) -> Reply:
        key = request.path.lstrip("/")
        refusal = self._refusal(request, key)
        if refusal is not None:
            return refusal
        with self._objects_lock:
            if request.method == "GET":
                body = self.objects.get(key)
                if body is None:
                    return _error(404, "NoSuchKey", "The specified key does not exist.")
                return Reply(200, body, {"ETag": _etag(body)})
            forbid = request.headers.get("x-oss-forbid-overwrite", "false").lower() == "true"
            if forbid and key in self.objects:
                return _error(409, "FileAlreadyExists", "The object you specified already exists.")
            self.objects[key] = request.body
        return Reply(200, b"", {"ETag": _etag(request.body)})


def _md5(body: bytes) -> bytes:
    return hashlib.md5(body, usedforsecurity=False).digest()


def _etag(body: bytes) -> str:
    return '"' + _md5(body).hex().upper() + '"'
