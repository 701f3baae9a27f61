"""Which hosts count as loopback, and which URLs a webhook variable accepts (stdlib only)."""

from __future__ import annotations

import ipaddress
import urllib.parse


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook URL, or None. Never includes the URL itself."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if parts.username or parts.password:
        return "must not carry user:password@ (put credentials in the query as the service shows)"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "must use https:// (http:// is allowed only to a loopback address)"
    return None
