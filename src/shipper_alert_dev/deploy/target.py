"""`make deploy` / `make invoke`: where Function Compute is and whose key signs the requests.

The deployment's own variables (FC_ENDPOINT, or FC_ACCOUNT_ID and FC_REGION; the deployer's
ALIBABA_CLOUD_* key; FC_VERSION), read and checked all at once: every problem names its
variable, and the key secret and token are `Secret`s from the moment they are read.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from shipper_alert.config import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN, is_loopback_host
from shipper_alert.redact import MASK, Secret

# Deployment variables.
FC_ENDPOINT = "FC_ENDPOINT"
FC_ACCOUNT_ID = "FC_ACCOUNT_ID"
FC_REGION = "FC_REGION"
FC_ROLE_ARN = "FC_ROLE_ARN"
FC_VERSION = "FC_VERSION"  # 2 (the 2016-08-15 API, aliyun-fc2) or 3 (2023-03-30)
ENV_FILE = "SHIPPER_ALERT_ENV_FILE"
ENV_PREFIX = "FC_ENV_"
EVENT = "EVENT"

_FC_HOST = re.compile(r"\d+\.([a-z0-9-]+?)(?:-internal)?\.fc\.aliyuncs\.com")
_REGION = re.compile(r"[a-z]{2,}-[a-z0-9-]+")


def env_value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Target:
    """Where FC is and who signs the requests."""

    endpoint: str
    region: str | None
    access_key_id: str
    access_key_secret: Secret = field(repr=False)
    security_token: Secret | None = field(repr=False)
    version: int = 2

    @property
    def shown_key(self) -> str:
        return f"{self.access_key_id[:4]}{MASK}"


def _parse_endpoint(text: str, problems: list[str]) -> tuple[str | None, str | None]:
    """(endpoint without a trailing slash, region from an FC host name) or a problem."""
    url = text if "://" in text else f"https://{text}"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        problems.append(f"{FC_ENDPOINT}: {text!r} is not a URL")
        return None, None
    if parts.scheme not in ("http", "https") or not host:
        problems.append(f"{FC_ENDPOINT}: {text!r} is not an http(s) URL with a host")
        return None, None
    if parts.scheme == "http" and not is_loopback_host(host):
        problems.append(
            f"{FC_ENDPOINT}: http:// is allowed only to a loopback address; use https://"
        )
        return None, None
    if parts.path.strip("/") or parts.query or parts.fragment:
        problems.append(f"{FC_ENDPOINT}: {text!r} must be scheme and host only, no path")
        return None, None
    match = _FC_HOST.fullmatch(host)
    return f"{parts.scheme}://{parts.netloc}", match.group(1) if match else None


def read_target(environ: Mapping[str, str]) -> tuple[Target | None, list[str]]:
    problems: list[str] = []
    endpoint_text = env_value(environ, FC_ENDPOINT)
    account = env_value(environ, FC_ACCOUNT_ID)
    region = env_value(environ, FC_REGION)
    if region is not None and not _REGION.fullmatch(region):
        problems.append(f"{FC_REGION}: {region!r} is not a region ID such as cn-hangzhou")
        region = None
    endpoint = None
    if endpoint_text is not None:
        endpoint, host_region = _parse_endpoint(endpoint_text, problems)
        region = region or host_region
    elif account is None or region is None:
        missing = " and ".join(
            name for name, value in ((FC_ACCOUNT_ID, account), (FC_REGION, region)) if not value
        )
        problems.append(
            f"{FC_ENDPOINT}: not set, and {missing} not set to build it "
            "(https://<account>.<region>.fc.aliyuncs.com)"
        )
    elif not account.isdigit():
        problems.append(f"{FC_ACCOUNT_ID}: {account!r} is not an Alibaba Cloud account ID (digits)")
    else:
        endpoint = f"https://{account}.{region}.fc.aliyuncs.com"
    key_id = env_value(environ, ACCESS_KEY_ID)
    secret_text = env_value(environ, ACCESS_KEY_SECRET)
    token_text = env_value(environ, SECURITY_TOKEN)
    # Registered with the scrubber at once, so no later line can show them.
    secret = Secret(secret_text) if secret_text else None
    token = Secret(token_text) if token_text else None
    if key_id is None:
        problems.append(f"{ACCESS_KEY_ID}: not set (the key that deploys and invokes)")
    if secret is None:
        problems.append(f"{ACCESS_KEY_SECRET}: not set")
    version_text = env_value(environ, FC_VERSION) or "2"
    if version_text not in ("2", "3"):
        problems.append(
            f"{FC_VERSION}: {version_text!r} is not 2 or 3 (Function Compute 2.0 or 3.0)"
        )
    if problems or endpoint is None or key_id is None or secret is None:
        return None, problems
    return Target(endpoint, region, key_id, secret, token, int(version_text)), []
