"""The SLS endpoint: parsing `SLS_ENDPOINT`, and where a request for a project goes.

The URL and Host rule follow the SDK (docs/vendors.md, "SLS API"); the endpoint forms per
region, `{region}-intranet.log.aliyuncs.com` from Function Compute, are those of
https://alibabacloud.com/help/en/sls/endpoints.

Two deliberate differences from the official SDK, both set by the contract:
- a bare host means **https** (the SDK's default is plain http);
- an IP endpoint (IPv4, bracketed IPv6) or `localhost` keeps its port: the request goes to
  the address itself, and the `Host` header still names the project as `{project}.{ip}`,
  followed by `:port` when the port was given explicitly (and is not the scheme's default).
  The SDK only recognises a bare IPv4 without a port.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

SCHEMES = ("https", "http")
DEFAULT_SCHEME = "https"
DEFAULT_PORTS = {"https": 443, "http": 80}
LOCALHOST = "localhost"

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_HOST_LENGTH = 253


def _fail(problem: str) -> ValueError:
    return ValueError(f"SLS endpoint {problem}")


@dataclass(frozen=True)
class Endpoint:
    """A parsed SLS endpoint: scheme, host (IPv6 without brackets) and explicit port."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """Parse `cn-hangzhou.log.aliyuncs.com`, `host:port` or `http(s)://host[:port][/path]`.

        The path (and anything after it) is ignored. Raises ValueError naming the problem.
        """
        value = text.strip()
        if not value:
            raise _fail("is empty")
        if "://" in value:
            scheme, rest = value.split("://", 1)
            scheme = scheme.lower()
            if scheme not in SCHEMES:
                raise _fail(f"{value!r} has unsupported scheme {scheme!r} (use https or http)")
        else:
            scheme, rest = DEFAULT_SCHEME, value
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "@" in authority:
            # Not echoed: user info may hold a password.
            raise _fail("must not contain user info (user:password@)")
        if not authority:
            raise _fail(f"{value!r} has no host")
        host, port = _split_host_port(authority, value)
        return cls(scheme, host, port)

    @classmethod
    def fc_default(cls, region: str) -> Endpoint:
        """The endpoint a function in `region` uses when SLS_ENDPOINT is unset."""
        if not _REGION.fullmatch(region or ""):
            raise ValueError(f"cannot derive the SLS endpoint from FC region {region!r}")
        return cls.parse(f"{region}-intranet.log.aliyuncs.com")

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def addresses_directly(self) -> bool:
        """True when requests go to the host itself rather than to `{project}.{host}`."""
        return self.is_ip or self.host == LOCALHOST

    @property
    def _netloc_suffix(self) -> str:
        if self.port is None or self.port == DEFAULT_PORTS[self.scheme]:
            return ""
        return f":{self.port}"

    @property
    def _bracketed_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def base_url(self, project: str) -> str:
        """`{scheme}://{project}.{host}[:port]`, or `{scheme}://{ip}[:port]` for an IP."""
        if self.addresses_directly:
            return f"{self.scheme}://{self._bracketed_host}{self._netloc_suffix}"
        return f"{self.scheme}://{project}.{self.host}{self._netloc_suffix}"

    def host_header(self, project: str) -> str:
        """The `Host` header: always `{project}.{host}[:port]`, SLS reads the project there."""
        return f"{project}.{self._bracketed_host}{self._netloc_suffix}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self._bracketed_host}{self._netloc_suffix}"


def _split_host_port(authority: str, value: str) -> tuple[str, int | None]:
    port_text: str | None = None
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise _fail(f"{value!r} has an unclosed '[' in its host")
        host, after = authority[1:end], authority[end + 1 :]
        if after:
            if not after.startswith(":"):
                raise _fail(f"{value!r} has text after its IPv6 address")
            port_text = after[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _fail(f"{value!r} has an invalid IPv6 address {host!r}") from None
        return host.lower(), _parse_port(port_text, value)
    if authority.count(":") > 1:
        raise _fail(f"{value!r}: an IPv6 address must be written in brackets, e.g. [::1]:8080")
    if ":" in authority:
        authority, port_text = authority.split(":", 1)
    host = authority.lower()
    _check_host(host, value)
    return host, _parse_port(port_text, value)


def _parse_port(port_text: str | None, value: str) -> int | None:
    if port_text is None:
        return None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _fail(f"{value!r} has an invalid port {port_text!r} (1-65535)")
    return int(port_text)


def _check_host(host: str, value: str) -> None:
    if not host:
        raise _fail(f"{value!r} has no host")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise _fail(f"{value!r} has an invalid IPv4 address {host!r}") from None
        return
    labels = host.split(".")
    if len(host) > _MAX_HOST_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        raise _fail(f"{value!r} has an invalid host name {host!r}")
