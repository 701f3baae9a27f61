"""The FC request signature the fake FC API checks: vectors of
https://help.aliyun.com/document_detail/53252.html as the SDK computes them, the SDK's
own signer as the reference, and every way a request can fail the check."""

from __future__ import annotations

import email.utils

import pytest
from fc2.auth import Auth

from shipper_alert_dev.standins.fc_signing import (
    FcApiError,
    FcCredential,
    authorization,
    canonical_headers,
    canonical_resource,
    string_to_sign,
    verify_request,
)

PATH = "/2016-08-15/services/svc/functions/fn/invocations"
DATE = "Wed, 11 Nov 2015 08:28:19 GMT"
NOW = email.utils.parsedate_to_datetime(DATE).timestamp()
HEADERS = {
    "content-type": "application/json",
    "date": DATE,
    "x-fc-invocation-type": "Sync",
    "x-fc-log-type": "Tail",
}
# "No token" and "Token testtoken".
VECTOR_STRING = (
    "POST\n\napplication/json\nWed, 11 Nov 2015 08:28:19 GMT\n"
    "x-fc-invocation-type:Sync\nx-fc-log-type:Tail\n"
    "/2016-08-15/services/svc/functions/fn/invocations"
)
VECTOR_AUTHORIZATION = "FC testid:B7nwKX9V3Z3dVuEGNfA29IJFW/3c6FE3tlrpFaw4Fcw="
TOKEN_VECTOR_STRING = (
    "POST\n\napplication/json\nWed, 11 Nov 2015 08:28:19 GMT\n"
    "x-fc-invocation-type:Sync\nx-fc-log-type:Tail\nx-fc-security-token:testtoken\n"
    "/2016-08-15/services/svc/functions/fn/invocations"
)
TOKEN_VECTOR_AUTHORIZATION = "FC testid:lNMrd/yWIboFaDrqCWg0P24kjkodgqJ/IGYbdLW9cKg="

KEY = FcCredential("testid", "testsecret")
KEY_WITH_TOKEN = FcCredential("testid", "testsecret", "testtoken")


def signed(headers=HEADERS, secret="testsecret", key_id="testid", method="POST", path=PATH):
    return {**headers, "authorization": authorization(key_id, secret, method, path, headers)}


def test_the_string_to_sign_is_the_vector():
    assert string_to_sign("POST", PATH, HEADERS) == VECTOR_STRING
    with_token = {**HEADERS, "x-fc-security-token": "testtoken"}
    assert string_to_sign("POST", PATH, with_token) == TOKEN_VECTOR_STRING


def test_the_authorization_is_the_vector():
    assert authorization("testid", "testsecret", "POST", PATH, HEADERS) == VECTOR_AUTHORIZATION
    with_token = {**HEADERS, "x-fc-security-token": "testtoken"}
    assert (
        authorization("testid", "testsecret", "POST", PATH, with_token)
        == TOKEN_VECTOR_AUTHORIZATION
    )


def test_the_check_accepts_the_vectors():
    vector = {**HEADERS, "authorization": VECTOR_AUTHORIZATION}
    assert verify_request("POST", PATH, {}, vector, {"testid": KEY}, NOW) == KEY
    token_vector = {
        **HEADERS,
        "x-fc-security-token": "testtoken",
        "authorization": TOKEN_VECTOR_AUTHORIZATION,
    }
    assert (
        verify_request("POST", PATH, {}, token_vector, {"testid": KEY_WITH_TOKEN}, NOW)
        == KEY_WITH_TOKEN
    )


@pytest.mark.parametrize(
    ("method", "path", "headers", "queries"),
    [
        ("POST", PATH, HEADERS, None),
        ("GET", "/2016-08-15/services/shipper-alert", {"date": DATE}, None),
        (
            "PUT",
            "/2016-08-15/services/s.LATEST/functions/f/async-invoke-config",
            {"content-type": "application/json", "date": DATE, "x-fc-trace-id": "t-1"},
            None,
        ),
        # HTTP-trigger paths sign the sorted query parameters too.
        (
            "GET",
            "/2016-08-15/proxy/svc/fn/a b",
            {"date": DATE},
            {"b": "2", "a": ["3", "1"], "flag": []},
        ),
    ],
)
def test_the_sdk_signer_and_the_check_agree(method, path, headers, queries):
    sdk = Auth("testid", "testsecret").sign_request(method, path, headers, queries)
    query = {k: [v] if isinstance(v, str) else v for k, v in (queries or {}).items()}
    assert authorization("testid", "testsecret", method, path, headers, query) == sdk
    request = {**headers, "authorization": sdk}
    assert verify_request(method, path, query, request, {"testid": KEY}, NOW) == KEY


def test_the_resource_is_the_unquoted_path_and_proxy_paths_add_parameters():
    assert canonical_resource("/2016-08-15/services/a%20b") == "/2016-08-15/services/a b"
    assert (
        canonical_resource("/2016-08-15/proxy/s/f/x", {"b": ["2"], "a": ["1"], "e": []})
        == "/2016-08-15/proxy/s/f/x\na=1\nb=2\ne"
    )
    assert canonical_resource("/2016-08-15/proxy/s/f/x", {}) == "/2016-08-15/proxy/s/f/x\n"


def test_canonical_headers_lower_case_and_sort_only_x_fc_headers():
    headers = {"X-Fc-Log-Type": "Tail", "x-fc-a": " v ", "Host": "h", "user-agent": "u"}
    assert canonical_headers(headers) == "x-fc-a: v \nx-fc-log-type:Tail\n"
    assert canonical_headers({"date": DATE}) == ""


def test_header_names_are_case_insensitive_and_unsigned_headers_may_change():
    request = signed()
    mixed = {k.title(): v for k, v in request.items()}
    mixed["User-Agent"] = "anything"
    mixed["Host"] = "elsewhere:1"
    assert verify_request("POST", PATH, {}, mixed, {"testid": KEY}, NOW) == KEY


def rejection(headers, *, method="POST", path=PATH, keys=None, now=NOW) -> FcApiError:
    with pytest.raises(FcApiError) as caught:
        verify_request(method, path, {}, headers, keys or {"testid": KEY}, now)
    return caught.value


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: {**h, "x-fc-log-type": "None"},
        lambda h: {**h, "x-fc-invocation-type": "Async"},
        lambda h: {**h, "x-fc-trace-id": "added-after-signing"},
        lambda h: {**h, "content-type": "text/plain"},
        lambda h: {**h, "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
        lambda h: {**h, "date": "Wed, 11 Nov 2015 08:28:20 GMT"},
    ],
)
def test_any_signed_part_changed_after_signing_is_a_mismatch(tamper):
    error = rejection(tamper(signed()))
    assert (error.status, error.code) == (403, "SignatureNotMatch")


def test_another_method_or_path_is_a_mismatch():
    assert rejection(signed(), method="PUT").code == "SignatureNotMatch"
    other_path = "/2016-08-15/services/svc/functions/other/invocations"
    assert rejection(signed(), path=other_path).code == "SignatureNotMatch"


def test_a_wrong_secret_is_a_mismatch():
    error = rejection(signed(secret="not-the-secret"))
    assert (error.status, error.code) == (403, "SignatureNotMatch")
    assert "does not match the signature you provided" in error.message


def test_an_unknown_key_is_named():
    error = rejection(signed(key_id="LTAI-unknown"))
    assert (error.status, error.code) == (403, "InvalidAccessKeyID")
    assert error.message == "invalid access key ID 'LTAI-unknown'"


def test_the_date_may_be_15_minutes_off_and_no_more():
    assert verify_request("POST", PATH, {}, signed(), {"testid": KEY}, NOW + 900) == KEY
    assert verify_request("POST", PATH, {}, signed(), {"testid": KEY}, NOW - 900) == KEY
    for now in (NOW + 901, NOW - 901):
        error = rejection(signed(), now=now)
        assert (error.status, error.code) == (403, "RequestTimeTooSkewed")


def test_missing_date_or_authorization():
    no_date = {k: v for k, v in signed().items() if k != "date"}
    error = rejection(no_date)
    assert (error.status, error.code) == (400, "MissingRequiredHeader")
    no_auth = dict(HEADERS)
    assert rejection(no_auth).status == 403
    assert rejection({**HEADERS, "authorization": "Bearer x"}).code == "AccessDenied"


def test_a_key_with_a_token_needs_that_token():
    keys = {"testid": KEY_WITH_TOKEN}
    error = rejection(signed(), keys=keys)
    assert (error.status, error.code) == (403, "InvalidSecurityToken")
    wrong = {**HEADERS, "x-fc-security-token": "other-token"}
    assert rejection(signed(wrong), keys=keys).code == "InvalidSecurityToken"
