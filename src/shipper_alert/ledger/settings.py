"""STATE_URL: where the notification ledger lives (unset: stateless).

- `file:///absolute/folder` for local runs and tests;
- `oss://bucket/prefix` on FC, in the FC region's internal endpoint
  (`oss-<region>-internal.aliyuncs.com`,
  https://www.alibabacloud.com/help/en/oss/user-guide/regions-and-endpoints); the query
  `?region=cn-hangzhou` names the region off FC and `?endpoint=host-or-URL` overrides the
  endpoint (`http://` only to loopback, as for webhooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

STATE_URL = "STATE_URL"
# https://www.alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)+")
_QUERY_KEYS = ("region", "endpoint")


@dataclass(frozen=True)
class LedgerSettings:
    url: str  # as configured, for `validate`
    folder: Path | None = None  # file://
    bucket: str | None = None  # oss://
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None


class _ProblemReader(Protocol):
    def text(self, name: str, default: str | None = None) -> str | None: ...

    def problem(self, name: str, text: str) -> None: ...


def parse(text: str, fc_region: str | None) -> LedgerSettings:
    """The ledger's location, or ValueError saying what is wrong."""
    parts = urlsplit(text)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError(f"{text!r}: a file URL is file:///absolute/folder")
        return LedgerSettings(text, folder=Path(unquote(parts.path)))
    if parts.scheme != "oss":
        raise ValueError(f"{text!r} is neither oss://bucket/prefix nor file:///folder")
    bucket = parts.netloc
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(f"{bucket!r} is not an OSS bucket name (3-63 a-z, 0-9 and -)")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - set(_QUERY_KEYS))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; oss:// takes region, endpoint")
    region = query.get("region", [fc_region])[-1]
    if not region or not _REGION.fullmatch(region):
        raise ValueError("oss:// needs a region off FC: add ?region=cn-hangzhou")
    endpoint = query.get("endpoint", [f"oss-{region}-internal.aliyuncs.com"])[-1]
    _check_endpoint(endpoint)
    prefix = unquote(parts.path).strip("/")
    return LedgerSettings(text, bucket=bucket, prefix=prefix, region=region, endpoint=endpoint)


def _check_endpoint(endpoint: str) -> None:
    from shipper_alert.config import is_loopback_host  # noqa: PLC0415 - config imports us

    if "://" not in endpoint:
        return
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback_host(parts.hostname or "")
    ):
        return
    raise ValueError(f"endpoint {endpoint!r} must be https:// (http:// only to loopback)")


def read(reader: _ProblemReader, fc_region: str | None) -> LedgerSettings | None:
    """STATE_URL, checked; a problem is reported to `reader` and gives None."""
    text = reader.text(STATE_URL)
    if text is None:
        return None
    try:
        return parse(text, fc_region)
    except ValueError as exc:
        reader.problem(STATE_URL, str(exc))
        return None
