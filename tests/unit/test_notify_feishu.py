"""Feishu/Lark: signing (with the vector of https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot), the post payload, the
20,000-byte body limit measured with the signature fields, literal API text, and the
classification of Feishu's reply codes (docs/vendors.md, "Feishu / Lark")."""

from __future__ import annotations

import json
import re
from datetime import timezone

import pytest

import factories
from shipper_alert.config import Channels
from shipper_alert.notify.feishu.notifier import (
    MAX_BODY_BYTES,
    FeishuNotifier,
    encode_body,
    interpret_reply,
    sign,
    signed,
)
from shipper_alert.notify.feishu.settings import FeishuSettings
from shipper_alert.notify.registry import build_notifiers
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.feishu import nodes, post_problem

FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/unit-test-hook-token"
LARK_URL = "https://open.larksuite.com/open-apis/bot/v2/hook/unit-test-hook-token"
TASK_ID = re.compile(r"task-\d{5}")

# The shipper's console page (inferred form) and the logstore's (confirmed), links.py.
SHIPPER_PAGE = (
    "https://sls.console.aliyun.com/lognext/project/proj-a/logstore/nginx/shipper/oss-archive"
)
LOGSEARCH_PAGE = "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx"


def build(report, *, secret: str | None = "unit-secret", url: str = FEISHU_URL):
    settings = FeishuSettings(Secret(url), Secret(secret) if secret else None)
    notifier = FeishuNotifier(settings)
    try:
        return notifier.build(report, Renderer(None, timezone.utc))
    finally:
        notifier.close()


def lines(payload) -> list[str]:
    post = payload["content"]["post"]["zh_cn"]
    return ["".join(node["text"] for node in paragraph) for paragraph in post["content"]]


def test_signature_matches_the_documented_vector():
    assert sign("orbit-test-secret", "1756800000") == "sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg="


def test_signed_body_carries_timestamp_and_sign_as_strings():
    body = json.loads(encode_body(signed({"msg_type": "post"}, "1756800000", "abc=")))
    assert body == {"timestamp": "1756800000", "sign": "abc=", "msg_type": "post"}


def test_normal_alert_is_a_post_with_every_task():
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "NoSuchBucket", "NoSuchBucket", at=5),
    ]
    (message,) = build(factories.report(factories.shipper(failures=failures)))
    payload = message.payload
    assert post_problem(payload) is None
    assert payload["msg_type"] == "post"
    post = payload["content"]["post"]["zh_cn"]
    assert post["title"] == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 2 failed tasks · "
        "UnAuthorized ×1, NoSuchBucket ×1"
    )
    [heading] = [p for p in post["content"] if p[0].get("style") == ["bold"]]
    assert heading == [
        {"tag": "text", "text": "proj-a/nginx/oss-archive", "style": ["bold"]},
        {"tag": "text", "text": "  "},
        {"tag": "a", "text": "SLS console", "href": SHIPPER_PAGE},
        {"tag": "text", "text": " · "},
        {"tag": "a", "text": "logstore", "href": LOGSEARCH_PAGE},
    ]
    text = "\n".join(lines(payload))
    assert "Window: 2026-11-28 07:59:00 to 08:04:00 UTC · 2 failed tasks in 1 shipper" in text
    # The causes first, then the details.
    assert text.index("- 1× UnAuthorized on proj-a/nginx/oss-archive ×1. ") < text.index("task-")
    assert "1× UnAuthorized: role cannot write bucket [UnAuthorized]" in text
    assert "1× NoSuchBucket [NoSuchBucket]" in text
    for task in failures:
        assert f"- {task.id}  created" in text


def test_lark_and_feishu_urls_get_the_same_message():
    report = factories.report(factories.shipper(failures=[factories.failed("task-00001")]))
    assert build(report, url=LARK_URL)[0].payload == build(report, url=FEISHU_URL)[0].payload


@pytest.mark.parametrize("secret", ["unit-secret", None])
def test_500_failures_fit_20000_bytes_with_the_signature_fields(secret):
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    (message,) = build(report, secret=secret)
    payload = message.payload
    if secret:
        payload = signed(payload, "1795853105", sign(secret, "1795853105"))
    size = len(encode_body(payload))
    assert size <= MAX_BODY_BYTES
    assert size > MAX_BODY_BYTES - 200  # the budget is used
    text = "\n".join(lines(message.payload))
    details = factories.task_lines(text)  # the causes' examples
    shown = set(TASK_ID.findall(details))
    assert 0 < len(shown) < 500
    assert f"and {500 - len(shown)} more not shown (the counts above are complete)" in text
    assert "BREACHED: 500 failed, 5 succeeded, 1 running" in text


def test_the_unsigned_measure_would_not_do():
    """Signing adds ~80 bytes: a message fitted without them must not be sent signed."""
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    (unsigned,) = build(report, secret=None)
    grown = signed(unsigned.payload, "1795853105", "=" * 44)
    assert len(encode_body(grown)) > MAX_BODY_BYTES
    (fitted,) = build(report, secret="s")
    assert len(encode_body(signed(fitted.payload, "1795853105", "=" * 44))) <= MAX_BODY_BYTES


def test_cjk_is_measured_in_utf8_bytes():
    failures = [
        factories.failed(f"task-{i:05d}", f"写入失败 {i % 2}：对象存储拒绝访问", at=i)
        for i in range(400)
    ]
    (message,) = build(factories.report(factories.shipper(failures=failures)))
    body = encode_body(signed(message.payload, "1795853105", "=" * 44))
    assert len(body) <= MAX_BODY_BYTES
    assert "写入失败".encode() in body  # not \\u-escaped: 3 bytes a character


def test_hostile_text_is_literal_and_cannot_add_mentions_or_links():
    failures = [
        factories.failed(f"id-{i}", text, code='<at user_id="all"></at>')
        for i, text in enumerate(factories.HOSTILE_MESSAGES)
    ]
    (message,) = build(factories.report(factories.shipper(failures=failures)))
    payload = message.payload
    assert post_problem(payload) is None
    tags = [node["tag"] for node in nodes(payload)]
    assert "at" not in tags
    assert "img" not in tags
    links = [node for node in nodes(payload) if node["tag"] == "a"]
    assert [link["href"] for link in links] == [SHIPPER_PAGE, LOGSEARCH_PAGE]
    for node in nodes(payload):
        assert set(node) <= {"tag", "text", "href", "style"}  # no un_escape
        assert "\n" not in node["text"]
    text = "\n".join(lines(payload))
    # Shown exactly as SLS wrote it (literal text nodes), on one line each.
    assert "<script>alert(1)</script>" in text
    assert '<at user_id="all">所有人</at> <font color="warning">red</font>' in text
    assert "**bold** _it_ ~strike~ `code` # heading > quote - item" in text
    assert "&amp; & < > \" '" in text
    assert ("中文错误信息" * 83 + "中…") in text


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        ({"code": 11232, "msg": "frequency limited"}, True),
        ({"code": 99991400, "msg": "request trigger frequency limit"}, True),
        ({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, False),
        ({"code": 19022, "msg": "Ip Not Allowed"}, False),
        ({"code": 19024, "msg": "Key Words Not Found"}, False),
        ({"code": 9499, "msg": "Bad Request"}, False),
        ({"code": 19036, "msg": "size over limit"}, False),
        ({"code": 12345, "msg": "something new"}, False),
        ({"msg": "no code at all"}, True),
    ],
)
def test_reply_codes_are_classified(reply, retryable):
    failure = interpret_reply(reply, "feishu (https://open.feishu.cn/open-apis/***)")
    assert failure is not None
    assert failure.retryable is retryable
    if "code" in reply:
        assert f"code {reply['code']}: {reply['msg']}" in failure.detail
    assert failure.detail.startswith("feishu (https://open.feishu.cn/open-apis/***)")


@pytest.mark.parametrize("reply", [{"code": 0, "msg": "success"}, {"StatusCode": 0}])
def test_code_zero_is_success(reply):
    assert interpret_reply(reply, "feishu") is None


def test_rate_limit_reset_header_is_honoured():
    failure = interpret_reply({"code": 99991400}, "feishu", {"x-ogw-ratelimit-reset": "4"})
    assert failure is not None
    assert failure.retry_after == 4.0
    far = interpret_reply({"code": 11232}, "feishu", {"x-ogw-ratelimit-reset": "3600"})
    assert far is not None
    assert far.retry_after is None  # not believed: the back-off applies


def test_hints_say_what_to_fix():
    failure = interpret_reply({"code": 19021, "msg": "sign match fail"}, "feishu")
    assert failure is not None
    assert "FEISHU_SECRET" in failure.detail
    keyword = interpret_reply({"code": 19024, "msg": "Key Words Not Found"}, "feishu")
    assert keyword is not None
    assert "keyword" in keyword.detail


def test_the_registry_builds_it_from_the_settings_alone():
    settings = FeishuSettings(Secret(LARK_URL), Secret("s"))
    (notifier,) = build_notifiers(Channels(feishu=settings))
    try:
        assert isinstance(notifier, FeishuNotifier)
        assert notifier.name == "feishu"
    finally:
        notifier.close()
