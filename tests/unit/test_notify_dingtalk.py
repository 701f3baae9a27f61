"""DingTalk notifier without a network: signing, payload building, fitting, classification."""

from __future__ import annotations

import json
import re
from datetime import timezone
from zoneinfo import ZoneInfo

import pytest

import factories
from shipper_alert.evaluate import Stall
from shipper_alert.notify.dingtalk import notifier as dingtalk
from shipper_alert.notify.dingtalk.notifier import (
    DingTalkNotifier,
    encode_body,
    interpret_reply,
    sign,
)
from shipper_alert.notify.dingtalk.settings import DingTalkSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, Report, RetryOutcome

URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"
WHERE = "dingtalk (https://oapi.dingtalk.com/robot/***?***)"


def never_called() -> float:
    raise AssertionError("build must not read the clock: signing happens at send time")


def notifier(mobiles: tuple[str, ...] = (), at_all: bool = False) -> DingTalkNotifier:
    settings = DingTalkSettings(Secret(URL), Secret("SECsecret"), mobiles, at_all)
    return DingTalkNotifier(settings, clock=never_called)


def build(report: Report, **options) -> list:
    return notifier(**options).build(report, Renderer(None, report.timezone))


# -- signing (https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages) -----------------------------------------------------------
@pytest.mark.parametrize(
    ("secret", "timestamp", "expected"),
    [
        # Computed independently: printf '%s\n%s' TS SECRET | openssl dgst -sha256 -hmac SECRET -binary | base64
        (
            "SECexample-signing-secret",
            "1700000000000",
            "gr3Ns7MYwk5FLu6G4ONsMx9p9Mulr1Sp7DCmOeFb3ho=",
        ),
        ("SEC+/=", "1700000000123", "awDAvwcDV2mJplf0IzWrWKcrqf9+qbaZbZlwvaiXWPI="),
    ],
)
def test_sign_matches_the_documented_algorithm(secret: str, timestamp: str, expected: str) -> None:
    assert sign(secret, timestamp) == expected


# -- payload ------------------------------------------------------------------------------
def test_payload_is_markdown_with_title_text_and_mentions_from_configuration() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    [message] = build(report, mobiles=("13800000000", "13900000000"))

    payload = message.payload
    assert set(payload) == {"msgtype", "markdown", "at"}
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == message.title
    assert payload["markdown"]["text"] == message.text
    assert payload["at"] == {"atMobiles": ["13800000000", "13900000000"], "isAtAll": False}
    assert message.text.splitlines()[-1] == "@13800000000 @13900000000"
    assert message.channel == "dingtalk"


@pytest.mark.parametrize(
    ("mobiles", "at_all", "expected_at"),
    [
        ((), False, {"atMobiles": [], "isAtAll": False}),
        ((), True, {"atMobiles": [], "isAtAll": True}),
        (("@all",), False, {"atMobiles": [], "isAtAll": True}),
        (
            ("13800000000", "@all", "13800000000"),
            False,
            {"atMobiles": ["13800000000"], "isAtAll": True},
        ),
    ],
)
def test_at_all_and_duplicate_mobiles(mobiles, at_all, expected_at) -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))
    [message] = build(report, mobiles=mobiles, at_all=at_all)
    assert message.payload["at"] == expected_at
    assert message.text.count("@") == len(expected_at["atMobiles"])


def test_a_resolved_only_message_mentions_nobody() -> None:
    report = factories.report(factories.shipper(resolved=True))
    [message] = build(report, mobiles=("13800000000",), at_all=True)
    assert message.payload["at"] == {"atMobiles": [], "isAtAll": False}
    assert "@" not in message.text
    assert message.title == "[shipper-alert] RESOLVED: proj-a/nginx/oss-archive"
    assert "1 shipper back to normal" in message.text


@pytest.mark.parametrize(
    "shipper",
    [
        factories.shipper(failures=[factories.failed("t")]),
        factories.shipper(resolved=True),
        factories.shipper(error=ErrorInfo("Unauthorized", "denied", "req-1")),
        factories.shipper(stall=Stall(None, factories.WINDOW.start, True)),
        factories.shipper(stuck_tasks=[factories.stuck("s")]),
    ],
    ids=["breach", "resolved", "monitor-error", "stall", "stuck"],
)
def test_every_message_carries_the_keyword_in_its_text(shipper) -> None:
    [message] = build(factories.report(shipper))
    assert "shipper-alert" in message.payload["markdown"]["text"]


def test_text_mirrors_the_plain_text_content() -> None:
    report = factories.report(
        factories.shipper(
            "proj-a/nginx/oss-archive",
            [factories.failed("task-1", "denied"), factories.failed("task-2", "denied")],
            stuck_tasks=[factories.stuck("stuck-1")],
            retry=RetryOutcome(("task-1", "task-2"), True),
        ),
        factories.shipper("proj-b/app/to-oss", error=ErrorInfo("Unauthorized", "no role", "req-9")),
        factories.shipper("proj-c/app/to-oss", stall=Stall(factories.WINDOW.start - 7200, 0, True)),
        factories.shipper("proj-d/app/to-oss", resolved=True),
        tz=ZoneInfo("Asia/Shanghai"),
        tz_name="Asia/Shanghai",
    )
    [message] = build(report)
    text = message.text
    assert text.startswith("### [shipper-alert] FIRING: proj-a/nginx/oss-archive and 3 more\n")
    assert message.title == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive and 3 more — 2 failed tasks, "
        "1 stuck task, 1 stalled shipper, 1 unreadable target · UnAuthorized ×2"
    )
    assert (
        "**Window** 2026-11-28 15:59:00 to 16:04:00 Asia/Shanghai · 2 failed tasks in 1 shipper, "
        "1 stuck task, 1 stalled shipper, 1 shipper unreadable, 1 resolved"
    ) in text
    assert "**2×** `denied` (code `UnAuthorized`)" in text
    assert "- `task-1` created 15:57:10, failed 15:59:10" in text
    assert "**STUCK**: 1 task still running" in text
    assert "- `stuck-1` created 14:59:05, running over 1h" in text
    assert "AUTO_RETRY: retry requested for 2 tasks" in text
    assert (
        "**MONITOR ERROR**: cannot read this shipper: `Unauthorized`: `no role` (request id `req-9`)"
        in text
    )
    assert "**STALLED**: no new task since 2026-11-28 13:59:00 (reminder)" in text
    assert "**RESOLVED**: the previous window breached" in text
    assert text.count("[SLS console](https://sls.console.aliyun.com/") == 4
    # most urgent first: breach, monitor error, stall, resolved
    order = [text.index(f"#### `{p}/") for p in ("proj-a", "proj-b", "proj-c", "proj-d")]
    assert order == sorted(order)


def test_dry_run_is_marked() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("t")]), dry_run=True)
    [message] = build(report)
    assert "DRY RUN: nothing was sent" in message.text


def test_build_is_pure_and_repeatable() -> None:
    report = factories.report(factories.shipper(failures=factories.many_failures(50)))
    assert build(report) == build(report)


# -- size (docs/vendors.md, "DingTalk") -----------------------------------------------------------------
def cjk_report(shippers: int, failures: int) -> Report:
    return factories.report(
        *(
            factories.shipper(
                f"proj-{s:02d}/store/ship",
                [
                    factories.failed(f"t{s:02d}-{i:04d}", f"无法写入存储桶{i % 7}" * 30, at=i % 290)
                    for i in range(failures)
                ],
            )
            for s in range(shippers)
        )
    )


def test_bodies_are_measured_in_utf8_bytes_as_sent() -> None:
    messages = build(cjk_report(1, 400), mobiles=("13800000000",))
    [message] = messages
    size = len(encode_body(message.payload))
    assert 19000 < size <= dingtalk.MAX_BODY_BYTES
    # requests' json= would send \\uXXXX escapes: that body would not fit.
    assert len(json.dumps(message.payload).encode()) > dingtalk.MAX_BODY_BYTES
    assert encode_body(message.payload) == json.dumps(message.payload, ensure_ascii=False).encode()


def test_findings_too_many_for_one_message_are_split_and_only_the_first_mentions() -> None:
    messages = build(cjk_report(100, 5), mobiles=("13800000000",))
    assert len(messages) > 1
    total = len(messages)
    for number, message in enumerate(messages, start=1):
        assert len(encode_body(message.payload)) <= dingtalk.MAX_BODY_BYTES
        assert f"· part {number} of {total}\n" in message.text
        assert message.title.endswith(f" · part {number} of {total}")
        assert "500 failed tasks in 100 shippers" in message.text
    assert messages[0].payload["at"]["atMobiles"] == ["13800000000"]
    assert all(m.payload["at"] == {"atMobiles": [], "isAtAll": False} for m in messages[1:])
    shown = {p for m in messages for p in re.findall(r"#### `(proj-\d\d)/", m.text)}
    assert len(shown) == 100  # every shipper is in one of the parts


def test_long_api_messages_are_shortened_not_dropped() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("t", "错" * 5000)]))
    [message] = build(report)
    assert "错" * 499 + "…" in message.text
    assert "- `t` created" in message.text


def test_api_text_is_neutralised_everywhere_it_appears() -> None:
    hostile = "[x](http://evil) <font>@all</font> **b**"
    report = factories.report(
        factories.shipper(
            failures=[factories.failed(f"id-{hostile}", hostile, code=hostile)],
            stuck_tasks=[factories.stuck(f"stuck-{hostile}")],
            error=ErrorInfo(hostile, hostile, hostile),
            retry=RetryOutcome(("x",), True, error=hostile),
        ),
        tz=timezone.utc,
    )
    [message] = build(report)
    text = message.text
    assert "](http://evil" not in text
    assert "<" not in text
    outside_spans = re.sub(r"`[^`]*`", "", text)
    assert "@" not in outside_spans
    assert "**b**" not in outside_spans
    assert "evil" not in outside_spans
    # What a reader copies: the original but for the characters of a tag or a link. Task
    # id, message, code, stuck id, error code, message and request id, retry error, and
    # in the causes: the key (listed and with its example), the example id.
    assert text.count("`[x]（http://evil) ＜font＞@all＜/font＞ **b**`") == 8
    assert text.count("`id-[x]（http://evil) ＜font＞@all＜/font＞ **b**`") == 2


# -- classification (docs/vendors.md, "DingTalk") ------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after", "says"),
    [
        ({"errcode": 130101, "errmsg": "send too fast"}, True, 3.0, "rate limited"),
        ({"errcode": 130101, "errmsg": "send too fast", "wait": 5}, True, 5.0, "rate limited"),
        ({"errcode": 130101, "errmsg": "send too fast", "wait": 1}, True, 3.0, "rate limited"),
        ({"errcode": 130101, "errmsg": "x", "wait": 86400}, True, 3.0, "rate limited"),
        ({"errcode": 410100, "errmsg": "发送速度太快而限流"}, True, 3.0, "rate limited"),
        ({"errcode": -1, "errmsg": "系统繁忙"}, True, None, "busy"),
        ({"errcode": 310000, "errmsg": "keywords not in content"}, False, None, "keyword"),
        ({"errcode": 310000, "errmsg": "sign not match"}, False, None, "DINGTALK_SECRET"),
        ({"errcode": 310000, "errmsg": "invalid timestamp"}, False, None, "clock"),
        ({"errcode": 310000, "errmsg": "ip 1.2.3.4 not in whitelist"}, False, None, "allow-list"),
        ({"errcode": 300001, "errmsg": "token is not exist"}, False, None, "DINGTALK_WEBHOOK_URL"),
        ({"errcode": 300005, "errmsg": "token is not exist"}, False, None, "DINGTALK_WEBHOOK_URL"),
        ({"errcode": 400102, "errmsg": "机器人已停用"}, False, None, "DINGTALK_WEBHOOK_URL"),
        ({"errcode": 430102, "errmsg": "不合适的文本"}, False, None, "content check"),
        ({"errcode": 460101, "errmsg": "message too long"}, False, None, "BUG"),
        ({"errcode": 90030, "errmsg": "webhook over limit"}, False, None, "over limit"),
        ({"errmsg": "ok"}, True, None, "without 'errcode'"),
    ],
)
def test_replies_are_classified(reply, retryable, retry_after, says) -> None:
    failure = interpret_reply(reply, WHERE, 1234)
    assert failure is not None
    assert failure.retryable is retryable
    assert failure.retry_after == retry_after
    assert says in failure.detail
    assert failure.detail.startswith(WHERE)


@pytest.mark.parametrize(
    "reply", [{"errcode": 0, "errmsg": "ok"}, {"errcode": "0", "errmsg": "ok"}]
)
def test_errcode_zero_is_success(reply) -> None:
    assert interpret_reply(reply, WHERE, 10) is None


def test_a_reply_quoting_the_token_is_scrubbed() -> None:
    quoting = {"errcode": 300001, "errmsg": "token 0123456789abcdef is not exist"}
    notifier()  # its settings hold the URL, whose token is then known to the scrubber
    failure = interpret_reply(quoting, WHERE, 10)
    assert failure is not None
    assert "0123456789abcdef" not in failure.detail
    assert "token *** is not exist" in failure.detail
