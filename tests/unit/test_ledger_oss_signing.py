"""OSS V4 signatures, byte for byte against the vendor's SDK (alibabacloud-oss-v2)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer.v4 import SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext

from shipper_alert.ledger.oss_signing import canonical_request, sign

NOW = 1795852800  # 2026-11-28T08:00:00Z


def vendor_authorization(method, bucket, key, headers, token, region, query=""):
    url = f"https://{bucket}.oss-{region}.aliyuncs.com/{key}" + (f"?{query}" if query else "")
    request = HttpRequest(method, url, dict(headers))
    context = SigningContext(
        product="oss",
        region=region,
        bucket=bucket,
        key=key,
        request=request,
        credentials=StaticCredentialsProvider("ak-id", "ak-secret", token).get_credentials(),
        signing_time=datetime.fromtimestamp(NOW, timezone.utc),
    )
    SignerV4().sign(context)
    return request.headers["Authorization"], request.headers


@pytest.mark.parametrize("token", [None, "sts-token/with+odd=chars"])
@pytest.mark.parametrize(
    ("method", "key", "headers"),
    [
        ("GET", "shipper-alert/state.json", {}),
        (
            "PUT",
            "shipper-alert/claims/12.0",
            {
                "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
                "content-type": "application/json",
                "x-oss-forbid-overwrite": "true",
            },
        ),
        ("GET", "a key/with spaces/ü.json", {}),
        ("PUT", "state.json", {"content-type": "application/json"}),
    ],
)
@pytest.mark.parametrize("region", ["cn-hangzhou", "ap-southeast-1"])
def test_authorization_matches_the_vendor_sdk(method, key, headers, token, region):
    ours = sign(
        method,
        "example-bucket",
        key,
        headers,
        access_key_id="ak-id",
        access_key_secret="ak-secret",
        security_token=token,
        region=region,
        now=NOW,
    )
    theirs, their_headers = vendor_authorization(
        method, "example-bucket", key, headers, token, region
    )
    assert ours["authorization"] == theirs
    assert ours["x-oss-date"] == their_headers["x-oss-date"] == "20261128T080000Z"
    assert ours["date"] == their_headers["Date"] == "Sat, 28 Nov 2026 08:00:00 GMT"
    assert ours.get("x-oss-security-token") == token


def test_authorization_has_the_documented_shape():
    signed = sign(
        "GET",
        "b",
        "k",
        {},
        access_key_id="ak-id",
        access_key_secret="s",
        security_token=None,
        region="cn-hangzhou",
        now=NOW,
    )
    prefix = "OSS4-HMAC-SHA256 Credential=ak-id/20261128/cn-hangzhou/oss/aliyun_v4_request,"
    assert signed["authorization"].startswith(prefix + "Signature=")
    assert len(signed["authorization"]) == len(prefix) + len("Signature=") + 64


def test_canonical_request_signs_oss_headers_and_sorts_the_query():
    text = canonical_request(
        "PUT",
        "b",
        "dir/a b",
        {"uploads": "", "partNumber": "1"},
        {"x-oss-meta-z": "1", "content-type": "t", "user-agent": "ignored"},
    )
    assert text == (
        "PUT\n/b/dir/a%20b\npartNumber=1&uploads\ncontent-type:t\nx-oss-meta-z:1\n\n\nUNSIGNED-PAYLOAD"
    )


def test_a_different_secret_gives_a_different_signature():
    args = {"security_token": None, "region": "cn-hangzhou", "now": NOW, "access_key_id": "ak-id"}
    one = sign("GET", "b", "k", {}, access_key_secret="s1", **args)
    two = sign("GET", "b", "k", {}, access_key_secret="s2", **args)
    assert one["authorization"] != two["authorization"]
