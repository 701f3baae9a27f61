"""`oss://bucket/prefix`: the ledger in an OSS bucket, through GetObject and PutObject.

Requests are signed with V4 (`oss_signing`) and sent through `transport.exchange`: each
exchange (connect to last body byte) within REQUEST_TIMEOUT as a whole, the reply capped at
the ledger's own size limit, no proxy or .netrc from the environment;
a create uses `x-oss-forbid-overwrite: true` (see `store`). On FC the endpoint is the
region's internal one, https://www.alibabacloud.com/help/en/oss/user-guide/regions-and-endpoints
(`oss-<region>-internal.aliyuncs.com`); `?endpoint=` in STATE_URL overrides it (a loopback
stand-in in tests). The RAM role needs oss:GetObject and oss:PutObject on the prefix.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import requests

from shipper_alert import transport
from shipper_alert.bodies import ReplyTooLarge, ReplyUndecodable
from shipper_alert.ledger.document import MAX_BYTES, LedgerError
from shipper_alert.ledger.oss_signing import sign
from shipper_alert.ledger.store import Store
from shipper_alert.sls.credentials import Credentials
from shipper_alert.watchdog import ExchangeTimeout

CONNECT_TIMEOUT = 3.0
REQUEST_TIMEOUT = 10.0  # the whole exchange
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")


class OssStore(Store):
    def __init__(
        self,
        bucket: str,
        prefix: str,
        endpoint: str,
        region: str,
        credentials: Credentials,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.credentials = credentials
        self.clock = clock
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.session = session or transport.new_session()
        self.description = f"oss://{bucket}/{self.prefix}"

    def close(self) -> None:
        self.session.close()

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _host_is_ip(self) -> bool:
        host = self.host.rsplit(":", 1)[0] if not self.host.endswith("]") else self.host
        return bool(re.fullmatch(r"[\d.]+|\[[0-9a-fA-F:]+\]", host)) or host == "localhost"

    def _send(self, method: str, name: str, body: bytes = b"", extra=None) -> requests.Response:
        key = self._key(name)
        headers = dict(extra or {})
        if method == "PUT":
            # Content-MD5 lets OSS refuse a body damaged in transit (it is no security hash).
            headers["content-md5"] = base64.b64encode(
                hashlib.md5(body, usedforsecurity=False).digest()
            ).decode()
            headers["content-type"] = "application/json"
        token = self.credentials.security_token
        signed = sign(
            method,
            self.bucket,
            key,
            headers,
            access_key_id=self.credentials.access_key_id,
            access_key_secret=self.credentials.access_key_secret.reveal(),
            security_token=token.reveal() if token else None,
            region=self.region,
            now=self.clock(),
        )
        # Virtual-hosted style; to an IP (a stand-in) the Host header still names the bucket.
        target = self.host if self._host_is_ip() else f"{self.bucket}.{self.host}"
        signed["host"] = f"{self.bucket}.{self.host}"
        url = f"{self.scheme}://{target}/{quote(key, safe='/')}"
        try:
            response = transport.exchange(
                self.session,
                method,
                url,
                seconds=REQUEST_TIMEOUT,
                max_bytes=MAX_BYTES,
                connect_timeout=CONNECT_TIMEOUT,
                data=body if method == "PUT" else None,
                headers=signed,
            )
        except ExchangeTimeout:
            raise LedgerError(
                f"{self.description}/{name}: no complete reply within {REQUEST_TIMEOUT:.1f}s"
            ) from None
        except (ReplyTooLarge, ReplyUndecodable) as exc:
            raise LedgerError(f"{self.description}/{name}: {exc}") from None
        except requests.RequestException as exc:
            raise LedgerError(f"{self.description}/{name}: {type(exc).__name__}") from None
        return response

    def _failure(self, name: str, response: requests.Response) -> LedgerError:
        match = _ERROR_CODE.search(response.content or b"")
        code = match.group(1).decode("ascii", "replace") if match else "no error code"
        request_id = response.headers.get("x-oss-request-id", "")
        return LedgerError(
            f"{self.description}/{name}: HTTP {response.status_code} {code}"
            + (f" (request id {request_id})" if request_id else "")
        )

    def read(self, name: str) -> bytes | None:
        response = self._send("GET", name)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._failure(name, response)
        return response.content

    def replace(self, name: str, body: bytes) -> None:
        response = self._send("PUT", name, body)
        if response.status_code != 200:
            raise self._failure(name, response)

    def create(self, name: str, body: bytes) -> bool:
        response = self._send("PUT", name, body, {"x-oss-forbid-overwrite": "true"})
        if response.status_code == 409:
            return False
        if response.status_code != 200:
            raise self._failure(name, response)
        return True
