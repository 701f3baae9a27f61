"""The v1 signature against test vectors produced with aliyun-log-python-sdk 0.9.52.

Vectors A and A-STS sign only what the SDK's `AuthV1` adds itself; B and B-STS are the
real wire requests of `LogClient.get_shipper_tasks`; C is RetryShipperTask with a body.
Also the canonical resources of the table after vector C and the special-character
example.
"""

from __future__ import annotations

import pytest

from shipper_alert.sls import signing

DATE = "Wed, 11 Nov 2015 08:28:19 GMT"
DATE_EPOCH = 1447230499
RESOURCE = "/logstores/test-logstore/shipper/test-shipper/tasks"
# The SDK sends the query in dict order (from, to, status, offset, size); signing sorts it.
PARAMS = [
    ("from", "1448748198"),
    ("to", "1448948198"),
    ("status", "success"),
    ("offset", "0"),
    ("size", "100"),
]
SORTED_QUERY = "from=1448748198&offset=0&size=100&status=success&to=1448948198"
WIRE_HEADERS = {
    "x-log-apiversion": "0.6.0",
    "x-log-bodyrawsize": "0",
    "x-log-signaturemethod": "hmac-sha1",
    "Date": DATE,
    # Sent, but not part of the signature.
    "Host": "test-project.cn-hangzhou.log.aliyuncs.com",
    "Content-Length": "0",
    "User-Agent": "log-python-sdk-v-0.9.52",
    "x-log-date": DATE,
}

VECTORS = {
    "A": (
        "GET",
        {"Date": DATE, "x-log-signaturemethod": "hmac-sha1"},
        PARAMS,
        f"GET\n\n\n{DATE}\nx-log-signaturemethod:hmac-sha1\n{RESOURCE}?{SORTED_QUERY}",
        "LOG testid:3xgXJy/0ACGj9dcH8YazGKlS9HA=",
    ),
    "A-STS": (
        "GET",
        {
            "Date": DATE,
            "x-log-signaturemethod": "hmac-sha1",
            "x-acs-security-token": "testtoken",
        },
        PARAMS,
        f"GET\n\n\n{DATE}\nx-acs-security-token:testtoken\nx-log-signaturemethod:hmac-sha1\n"
        f"{RESOURCE}?{SORTED_QUERY}",
        "LOG testid:cAET/TECOQB89zqzykPUtvNz36A=",
    ),
    "B": (
        "GET",
        WIRE_HEADERS,
        PARAMS,
        f"GET\n\n\n{DATE}\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:0\n"
        f"x-log-signaturemethod:hmac-sha1\n{RESOURCE}?{SORTED_QUERY}",
        "LOG testid:qPVe6iHfXInLJ/k3CHxVYUrGCUU=",
    ),
    "B-STS": (
        "GET",
        {**WIRE_HEADERS, "x-acs-security-token": "testtoken"},
        PARAMS,
        f"GET\n\n\n{DATE}\nx-acs-security-token:testtoken\nx-log-apiversion:0.6.0\n"
        f"x-log-bodyrawsize:0\nx-log-signaturemethod:hmac-sha1\n{RESOURCE}?{SORTED_QUERY}",
        "LOG testid:JTInyEwpeawpvcY7eKJyU3U5/aA=",
    ),
    "C": (
        "PUT",
        {
            "Date": DATE,
            "x-log-apiversion": "0.6.0",
            "x-log-bodyrawsize": "20",
            "x-log-signaturemethod": "hmac-sha1",
            "Content-Type": "application/json",
            "Content-MD5": "4FF9195888DA6BBD555B4C40CE58BA22",
            "Content-Length": "20",
        },
        [],
        f"PUT\n4FF9195888DA6BBD555B4C40CE58BA22\napplication/json\n{DATE}\n"
        f"x-log-apiversion:0.6.0\nx-log-bodyrawsize:20\nx-log-signaturemethod:hmac-sha1\n"
        f"{RESOURCE}",
        "LOG testid:ziFccsyH0vtjqElv+h37BFig2kA=",
    ),
}


@pytest.mark.parametrize("name", list(VECTORS))
def test_string_to_sign_matches_vector(name: str) -> None:
    method, headers, params, expected, _ = VECTORS[name]
    assert signing.string_to_sign(method, RESOURCE, params, headers) == expected


@pytest.mark.parametrize("name", list(VECTORS))
def test_authorization_matches_vector(name: str) -> None:
    method, headers, params, _, expected = VECTORS[name]
    assert signing.authorization("testid", "testsecret", method, RESOURCE, params, headers) == (
        expected
    )


def test_vector_c_body_md5_and_size() -> None:
    body = b'["task-1", "task-2"]'
    assert len(body) == 20
    assert signing.content_md5(body) == "4FF9195888DA6BBD555B4C40CE58BA22"


def test_http_date_is_the_vectors_date() -> None:
    assert signing.http_date(DATE_EPOCH) == DATE


def test_a_wrong_secret_gives_another_signature() -> None:
    method, headers, params, _, expected = VECTORS["B"]
    assert signing.authorization("testid", "other", method, RESOURCE, params, headers) != expected


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (
            "/logstores",
            [("logstoreName", "test"), ("offset", "0"), ("size", "100")],
            "/logstores?logstoreName=test&offset=0&size=100",
        ),
        (
            "/logstores/test-logstore/shipper",
            [("offset", "0"), ("size", "100")],
            "/logstores/test-logstore/shipper?offset=0&size=100",
        ),
        (
            "/logstores/test-logstore/shipper/test-shipper",
            [],
            "/logstores/test-logstore/shipper/test-shipper",
        ),
        # An empty value still appears as `key=`.
        (RESOURCE, [("status", ""), ("from", "1")], f"{RESOURCE}?from=1&status="),
        # Values are signed raw, not URL-encoded (verified against the SDK).
        (
            "/logstores",
            [("logstoreName", "we ird&name=x+y/中")],
            "/logstores?logstoreName=we ird&name=x+y/中",
        ),
    ],
    ids=["list_logstore", "list_shipper", "get_shipper", "empty-value", "special-characters"],
)
def test_canonical_resource(path: str, params: list[tuple[str, str]], expected: str) -> None:
    assert signing.canonical_resource(path, params) == expected


def test_canonical_headers_skip_meta_date_and_plain_headers() -> None:
    headers = {
        "x-log-signaturemethod": "hmac-sha1",
        "x-log-meta-foo": "1",
        "x-log-date": DATE,
        "x-acs-security-token": "t",
        "Host": "p.h",
        "Authorization": "LOG a:b",
    }
    assert signing.canonical_headers(headers) == (
        "x-acs-security-token:t\nx-log-signaturemethod:hmac-sha1\n"
    )
