"""The FC 3.0 stand-in's ACS3-HMAC-SHA256 check agrees with the vendor SDK's signer."""

import hashlib
from types import SimpleNamespace

import pytest

from shipper_alert_dev.standins.base import Received
from shipper_alert_dev.standins.fc3_signing import verify_v3_request
from shipper_alert_dev.standins.fc_signing import FcApiError, FcCredential

KEY = FcCredential("testid", "testsecret")
NOW = 1447230499.0  # 2015-11-11T08:28:19Z


def signed_request(body=b'{"a": 1}', secret="testsecret", date="2015-11-11T08:28:19Z"):
    from alibabacloud_tea_openapi.utils import Utils  # noqa: PLC0415 - the SDK's own signer

    headers = {
        "host": "1234.cn-hangzhou.fc.aliyuncs.com",
        "x-acs-date": date,
        "x-acs-version": "2023-03-30",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/json; charset=utf-8",
    }
    sdk_request = SimpleNamespace(
        method="PUT",
        pathname="/2023-03-30/functions/shipper-alert-check/async-invoke-config",
        query={"qualifier": "LATEST"},
        headers=headers,
    )
    headers["authorization"] = Utils.get_authorization(
        sdk_request, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], "testid", secret
    )
    return Received("PUT", sdk_request.pathname, {"qualifier": ["LATEST"]}, headers, body, NOW)


def test_a_request_the_sdk_signed_is_accepted():
    assert verify_v3_request(signed_request(), {"testid": KEY}, NOW) == KEY


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (signed_request(secret="wrong"), "SignatureNotMatch"),
        (signed_request(date="2015-11-11T07:28:19Z"), "RequestTimeTooSkewed"),
    ],
)
def test_a_bad_signature_or_date_is_refused(request_, code):
    with pytest.raises(FcApiError) as caught:
        verify_v3_request(request_, {"testid": KEY}, NOW)
    assert caught.value.code == code


def test_a_body_that_is_not_the_signed_one_is_refused():
    request = signed_request()
    tampered = Received(request.method, request.path, request.query, request.headers, b"{}", NOW)
    with pytest.raises(FcApiError, match="x-acs-content-sha256 is not the body's SHA-256"):
        verify_v3_request(tampered, {"testid": KEY}, NOW)


def test_an_sts_key_needs_its_token():
    with pytest.raises(FcApiError) as caught:
        verify_v3_request(
            signed_request(), {"testid": FcCredential("testid", "testsecret", "tok")}, NOW
        )
    assert caught.value.code == "InvalidSecurityToken"
