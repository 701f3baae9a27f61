import base64
import json
import logging
import pickle
import urllib.parse

import pytest

from shipper_alert.redact import MASK, Secret, SecretScrubber, redact_url


def test_secret_masks_itself_everywhere():
    secret = Secret("s3cr3t-value")
    assert str(secret) == MASK
    assert repr(secret) == "Secret('***')"
    assert f"{secret}" == MASK
    assert "s3cr3t-value" not in f"{[secret]} {secret!r} {secret!s}"
    assert secret.reveal() == "s3cr3t-value"


def test_secret_cannot_be_pickled():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("s3cr3t-value"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://oapi.dingtalk.com/robot/send?access_token=abc123",
            "https://oapi.dingtalk.com/robot/***?***",
        ),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            "https://hooks.slack.com/services/***",
        ),
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            "https://qyapi.weixin.qq.com/cgi-bin/***?***",
        ),
        ("https://user:pw@example.com/hook", "https://example.com/hook"),
        ("http://127.0.0.1:8080/x/y", "http://127.0.0.1:8080/x/***"),
        ("http://[::1]:9/a", "http://[::1]:9/a"),
        ("not a url", MASK),
    ],
)
def test_redact_url_keeps_only_where_it_goes(url, shown):
    assert redact_url(url) == shown


def test_scrubber_removes_secrets_from_any_logger_output(caplog):
    Secret("token-abcdef")
    SecretScrubber.install()
    caplog.handler.addFilter(SecretScrubber())
    caplog.set_level(logging.DEBUG)
    logging.getLogger("thirdparty.http").debug(
        '"POST /send?access_token=%s HTTP/1.1"', "token-abcdef"
    )
    try:
        raise RuntimeError("failed with token-abcdef")
    except RuntimeError:
        logging.getLogger("x").exception("boom")
    text = caplog.text
    assert "token-abcdef" not in text
    assert "access_token=***" in text
    assert "failed with ***" in text


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=dt-token-0001", "dt-token-0001"),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-0002", "wecom-key-0002"),
        ("https://hooks.slack.com/services/T0/B0/slack-token-0003", "slack-token-0003"),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/feishu-token-0004", "feishu-token-0004"),
    ],
)
def test_a_webhook_url_secret_also_hides_its_token_alone(url, token):
    Secret(url)
    assert (
        SecretScrubber.scrub(f"the service said: bad token {token}")
        == "the service said: bad token ***"
    )


def test_words_in_webhook_paths_are_not_taken_for_tokens():
    Secret("https://oapi.dingtalk.com/robot/send?access_token=dt-token-0005")
    Secret("https://example.com/hook")
    assert SecretScrubber.scrub("send to the robot hook") == "send to the robot hook"


@pytest.mark.parametrize(
    "shown",
    [
        pytest.param(lambda v: repr(v)[1:-1], id="repr"),
        pytest.param(lambda v: json.dumps(v)[1:-1], id="json"),
        pytest.param(lambda v: json.dumps(v, ensure_ascii=False)[1:-1], id="json unicode"),
        pytest.param(lambda v: urllib.parse.quote(v, safe=""), id="url-quoted"),
        pytest.param(lambda v: base64.b64encode(v.encode()).decode(), id="base64 (AUTH LOGIN)"),
    ],
)
def test_a_secret_is_scrubbed_in_the_forms_texts_quote_it_in(shown):
    value = 'tok\nen-ü"/+x9'  # a pasted line break, a quote, non-ASCII
    Secret(value)
    text = f"the peer said: {shown(value)}!"
    assert SecretScrubber.scrub(text) == "the peer said: ***!"


def test_the_auth_plain_blob_of_a_login_is_scrubbed():
    SecretScrubber.register_login("alerts@example.com", "smtp-pass-77")
    blob = base64.b64encode(b"\0alerts@example.com\0smtp-pass-77").decode()
    assert SecretScrubber.scrub(f"535 5.7.8 bad credentials {blob}") == (
        "535 5.7.8 bad credentials ***"
    )


def test_the_registry_is_bounded_and_keeps_the_newest():
    for n in range(SecretScrubber.MAX_VALUES * 2):
        SecretScrubber.register(f"warm-invocation-token-{n:05}")
    newest = f"warm-invocation-token-{SecretScrubber.MAX_VALUES * 2 - 1:05}"
    assert SecretScrubber.registered() == SecretScrubber.MAX_VALUES
    assert SecretScrubber.scrub(newest) == MASK
    assert SecretScrubber.scrub("warm-invocation-token-00000") == "warm-invocation-token-00000"


def test_a_scheme_and_host_alone_is_no_secret():
    Secret("https://")
    Secret("https://example.org")
    assert SecretScrubber.scrub("see https://example.org/x") == "see https://example.org/x"


def test_scrub_tree_scrubs_every_string_of_a_result():
    Secret("tree-secret-1")
    result = {"a": ["x tree-secret-1", {"tree-secret-1": 1}], "n": 3, "b": None}
    assert SecretScrubber.scrub_tree(result) == {"a": ["x ***", {"***": 1}], "n": 3, "b": None}
