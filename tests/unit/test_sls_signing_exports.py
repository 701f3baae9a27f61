"""Signatures of the export-job and GetLogs requests, against SDK-produced vectors.

The vectors were produced by aliyun-log-python-sdk 0.9.52 (hmac-sha1) and
alibabacloud-sls20201230 5.15.1 (hmac-sha256) against a capture server, AccessKeyId
`testid`, secret `testsecret`; K is a hand-rolled SHA-1 request on /ossexports.
"""

from __future__ import annotations

import pytest

from shipper_alert.sls import signing

DATE = "Wed, 11 Nov 2015 08:28:19 GMT"
QUERY_G = (
    "__topic__: etl_metrics and metric_type: ConnectorMetrics | select job_name, count(*) as cnt"
    " from log group by job_name"
)
JOB = "export-oss-1700000000-123456"


def _headers(method: str, content_type: str = "", md5: str = "", size: str = "0"):
    headers = {
        "Date": DATE,
        "x-log-apiversion": "0.6.0",
        "x-log-bodyrawsize": size,
        "x-log-signaturemethod": method,
        "x-log-date": DATE,  # never signed
    }
    if content_type:
        headers["Content-Type"] = content_type
    if md5:
        headers["Content-MD5"] = md5
    return headers


SHA1, SHA256 = signing.SIGNATURE_METHOD, signing.SIGNATURE_METHOD_SHA256
CASES = {
    "A list_export": (
        "GET",
        "/jobs",
        [("offset", "0"), ("size", "100"), ("jobType", "Export")],
        _headers(SHA1),
        "LOG testid:qp+orOlaNpcUk68b9Z7TLv4f8sk=",
    ),
    "B list_logstore_export": (
        "GET",
        "/jobs",
        [("offset", "0"), ("size", "100"), ("jobType", "Export"), ("logstore", "app-log")],
        _headers(SHA1),
        "LOG testid:rWz8sg0b7woMkQgxmY0ldZrkl9w=",
    ),
    "C get_export": (
        "GET",
        f"/jobs/{JOB}",
        [],
        _headers(SHA1),
        "LOG testid:h8sDNkuxvSYBOVuLjJxS0ztVnVM=",
    ),
    "D list_ossexports sha256": (
        "GET",
        "/ossexports",
        [("logstore", "app-log"), ("offset", "0"), ("size", "10")],
        _headers(SHA256, "application/json"),
        "LOG testid:GlsSOLTWkU8YHRb/QTeD1Kq3RuwRCrZRDboZhaFWhLo=",
    ),
    "E get_ossexport sha256": (
        "GET",
        f"/ossexports/{JOB}",
        [],
        _headers(SHA256, "application/json"),
        "LOG testid:sighaowAQzY3St5wdhGE8SM6Kdvd+kJu5Ipm8XZubqg=",
    ),
    "F get_log v2 POST": (
        "POST",
        "/logstores/internal-diagnostic_log/logs",
        [],
        _headers(SHA1, "application/json", "78C466D880559E9E61FDB1A8C5E5E6A4", "291"),
        "LOG testid:ywI28u1brrkLijL9vzqR9j9uRMo=",
    ),
    "G get_log v1 GET": (
        "GET",
        "/logstores/internal-diagnostic_log",
        [
            ("from", "1700000000"),
            ("to", "1700000300"),
            ("line", "100"),
            ("offset", "0"),
            ("powerSql", "False"),
            ("accurate", "True"),
            ("fromNs", "0"),
            ("toNs", "0"),
            ("query", QUERY_G),
            ("type", "log"),
            ("reverse", "false"),
        ],
        _headers(SHA1),
        "LOG testid:cMC1qBY/UV2OuJH2V1KU5mj8OHk=",
    ),
    "K sha1 on /ossexports": (
        "GET",
        "/ossexports",
        [("logstore", "app-log"), ("offset", "0"), ("size", "10")],
        _headers(SHA1),
        "LOG testid:eRf+B2kixXKUCxE0Hwzz+5jd+30=",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_vector(case: str) -> None:
    method, path, params, headers, expected = CASES[case]
    text = signing.string_to_sign(method, path, params, headers)
    digest = headers["x-log-signaturemethod"]
    assert f"LOG testid:{signing.signature('testsecret', text, digest)}" == expected


def test_the_same_string_signed_with_the_other_method_does_not_match() -> None:
    method, path, params, headers, expected = CASES["D list_ossexports sha256"]
    text = signing.string_to_sign(method, path, params, headers)
    assert f"LOG testid:{signing.signature('testsecret', text, SHA1)}" != expected


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(KeyError):
        signing.signature("testsecret", "text", "hmac-md5")
