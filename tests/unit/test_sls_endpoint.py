"""SLS_ENDPOINT parsing and the URL / Host rule of the contract (https://alibabacloud.com/help/en/sls/endpoints)."""

from __future__ import annotations

import pytest

from shipper_alert.sls.endpoint import Endpoint

# text -> (scheme, host, port, url for project "p", Host header for project "p")
VALID = [
    (
        "cn-hangzhou.log.aliyuncs.com",
        ("https", "cn-hangzhou.log.aliyuncs.com", None),
        "https://p.cn-hangzhou.log.aliyuncs.com",
        "p.cn-hangzhou.log.aliyuncs.com",
    ),
    (
        "  CN-Hangzhou.log.aliyuncs.com/  ",
        ("https", "cn-hangzhou.log.aliyuncs.com", None),
        "https://p.cn-hangzhou.log.aliyuncs.com",
        "p.cn-hangzhou.log.aliyuncs.com",
    ),
    (
        "cn-hangzhou.log.aliyuncs.com:8443",
        ("https", "cn-hangzhou.log.aliyuncs.com", 8443),
        "https://p.cn-hangzhou.log.aliyuncs.com:8443",
        "p.cn-hangzhou.log.aliyuncs.com:8443",
    ),
    (
        "https://cn-shanghai-intranet.log.aliyuncs.com/some/path?x=1",
        ("https", "cn-shanghai-intranet.log.aliyuncs.com", None),
        "https://p.cn-shanghai-intranet.log.aliyuncs.com",
        "p.cn-shanghai-intranet.log.aliyuncs.com",
    ),
    (
        "HTTP://cn-shanghai.log.aliyuncs.com",
        ("http", "cn-shanghai.log.aliyuncs.com", None),
        "http://p.cn-shanghai.log.aliyuncs.com",
        "p.cn-shanghai.log.aliyuncs.com",
    ),
    # The scheme's default port, written out, changes nothing.
    (
        "https://cn-hangzhou.log.aliyuncs.com:443",
        ("https", "cn-hangzhou.log.aliyuncs.com", 443),
        "https://p.cn-hangzhou.log.aliyuncs.com",
        "p.cn-hangzhou.log.aliyuncs.com",
    ),
    # IP endpoints: the request goes to the address, Host still names the project.
    (
        "http://127.0.0.1:8080",
        ("http", "127.0.0.1", 8080),
        "http://127.0.0.1:8080",
        "p.127.0.0.1:8080",
    ),
    (
        "http://127.0.0.1:8080/ignored",
        ("http", "127.0.0.1", 8080),
        "http://127.0.0.1:8080",
        "p.127.0.0.1:8080",
    ),
    ("10.0.0.7", ("https", "10.0.0.7", None), "https://10.0.0.7", "p.10.0.0.7"),
    ("10.0.0.7:80", ("https", "10.0.0.7", 80), "https://10.0.0.7:80", "p.10.0.0.7:80"),
    ("http://[::1]:9000", ("http", "::1", 9000), "http://[::1]:9000", "p.[::1]:9000"),
    (
        "https://[2001:DB8::1]",
        ("https", "2001:db8::1", None),
        "https://[2001:db8::1]",
        "p.[2001:db8::1]",
    ),
    (
        "http://localhost:8080",
        ("http", "localhost", 8080),
        "http://localhost:8080",
        "p.localhost:8080",
    ),
    ("localhost", ("https", "localhost", None), "https://localhost", "p.localhost"),
]


@pytest.mark.parametrize(("text", "parts", "url", "host"), VALID, ids=[v[0] for v in VALID])
def test_parse_valid(text: str, parts: tuple[str, str, int | None], url: str, host: str) -> None:
    endpoint = Endpoint.parse(text)
    assert (endpoint.scheme, endpoint.host, endpoint.port) == parts
    assert endpoint.base_url("p") == url
    assert endpoint.host_header("p") == host


INVALID = [
    ("", "SLS endpoint is empty"),
    ("   ", "SLS endpoint is empty"),
    (
        "ftp://cn-hangzhou.log.aliyuncs.com",
        "SLS endpoint 'ftp://cn-hangzhou.log.aliyuncs.com' has unsupported scheme 'ftp'"
        " (use https or http)",
    ),
    ("https://", "SLS endpoint 'https://' has no host"),
    ("https:///path", "SLS endpoint 'https:///path' has no host"),
    (":8080", "SLS endpoint ':8080' has no host"),
    (
        "https://user:hunter2@cn-hangzhou.log.aliyuncs.com",
        "SLS endpoint must not contain user info (user:password@)",
    ),
    (
        "cn-hangzhou.log.aliyuncs.com:abc",
        "SLS endpoint 'cn-hangzhou.log.aliyuncs.com:abc' has an invalid port 'abc' (1-65535)",
    ),
    (
        "cn-hangzhou.log.aliyuncs.com:0",
        "SLS endpoint 'cn-hangzhou.log.aliyuncs.com:0' has an invalid port '0' (1-65535)",
    ),
    (
        "cn-hangzhou.log.aliyuncs.com:65536",
        "SLS endpoint 'cn-hangzhou.log.aliyuncs.com:65536' has an invalid port '65536' (1-65535)",
    ),
    (
        "cn-hangzhou.log.aliyuncs.com:",
        "SLS endpoint 'cn-hangzhou.log.aliyuncs.com:' has an invalid port '' (1-65535)",
    ),
    ("::1", "SLS endpoint '::1': an IPv6 address must be written in brackets, e.g. [::1]:8080"),
    ("http://[::1", "SLS endpoint 'http://[::1' has an unclosed '[' in its host"),
    ("http://[::1]x", "SLS endpoint 'http://[::1]x' has text after its IPv6 address"),
    ("http://[nope]:80", "SLS endpoint 'http://[nope]:80' has an invalid IPv6 address 'nope'"),
    ("999.1.1.1", "SLS endpoint '999.1.1.1' has an invalid IPv4 address '999.1.1.1'"),
    (
        "cn hangzhou.log.aliyuncs.com",
        "SLS endpoint 'cn hangzhou.log.aliyuncs.com' has an invalid host name"
        " 'cn hangzhou.log.aliyuncs.com'",
    ),
    (
        "-bad.example.com",
        "SLS endpoint '-bad.example.com' has an invalid host name '-bad.example.com'",
    ),
    ("a..b", "SLS endpoint 'a..b' has an invalid host name 'a..b'"),
]


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[v[0] or "empty" for v in INVALID])
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^SLS endpoint ") as caught:
        Endpoint.parse(text)
    assert str(caught.value) == message


def test_user_info_is_not_echoed() -> None:
    with pytest.raises(ValueError, match="must not contain user info") as caught:
        Endpoint.parse("user:hunter2@cn-hangzhou.log.aliyuncs.com")
    assert "hunter2" not in str(caught.value)


def test_fc_default_is_the_regions_intranet_endpoint_over_https() -> None:
    endpoint = Endpoint.fc_default("cn-hangzhou")
    assert endpoint == Endpoint("https", "cn-hangzhou-intranet.log.aliyuncs.com", None)
    assert endpoint.base_url("p") == "https://p.cn-hangzhou-intranet.log.aliyuncs.com"


@pytest.mark.parametrize("region", ["", "cn hangzhou", "cn-hangzhou/x", "-cn"])
def test_fc_default_rejects_a_malformed_region(region: str) -> None:
    with pytest.raises(ValueError, match="cannot derive the SLS endpoint from FC region"):
        Endpoint.fc_default(region)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("cn-hangzhou.log.aliyuncs.com", "https://cn-hangzhou.log.aliyuncs.com"),
        ("http://[::1]:9000/x", "http://[::1]:9000"),
        ("https://h.example:443", "https://h.example"),
    ],
)
def test_str_is_the_normalised_endpoint(text: str, shown: str) -> None:
    assert str(Endpoint.parse(text)) == shown


@pytest.mark.parametrize(
    ("text", "direct"),
    [
        ("127.0.0.1", True),
        ("http://[::1]:1", True),
        ("localhost:1", True),
        ("cn-hangzhou.log.aliyuncs.com", False),
        ("localhost.example.com", False),
    ],
)
def test_addresses_directly(text: str, direct: bool) -> None:
    assert Endpoint.parse(text).addresses_directly is direct
