"""WeCom notifier without a network: payload building, mentions, fitting, classification."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

import factories
from shipper_alert.evaluate import Stall
from shipper_alert.notify.wecom import notifier as wecom
from shipper_alert.notify.wecom.notifier import (
    WeComNotifier,
    content_bytes,
    interpret_reply,
    rate_limit_wait,
    truncate_utf8,
)
from shipper_alert.notify.wecom.settings import WeComSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, Report, RetryOutcome

URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0"
WHERE = "wecom (https://qyapi.weixin.qq.com/cgi-bin/***?***)"
OWN_TAGS = re.compile(r'<font color="(info|comment|warning)">|</font>')


def notifier(mobiles: tuple[str, ...] = ()) -> WeComNotifier:
    return WeComNotifier(WeComSettings(Secret(URL), mobiles))


def build(report: Report, **options) -> list:
    return notifier(**options).build(report, Renderer(None, report.timezone))


def test_payload_is_markdown_content() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))
    [message] = build(report)
    assert message.payload == {"msgtype": "markdown", "markdown": {"content": message.text}}
    assert message.title == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 1 failed task · UnAuthorized ×1"
    )
    assert message.channel == "wecom"


def test_mobiles_get_a_text_message_after_the_alert() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))
    alert, mention = build(report, mobiles=("13800000000", "13800000000", "@all"))
    assert alert.payload["msgtype"] == "markdown"
    assert (
        "@" not in alert.text
    )  # markdown cannot mention by mobile (https://developer.work.weixin.qq.com/document/path/91770)
    assert mention.payload == {
        "msgtype": "text",
        "text": {
            "content": "[shipper-alert] FIRING: proj-a/nginx/oss-archive: see the alert above.",
            "mentioned_mobile_list": ["13800000000", "@all"],
        },
    }


def test_a_resolved_only_message_mentions_nobody() -> None:
    report = factories.report(factories.shipper(resolved=True))
    [message] = build(report, mobiles=("13800000000",))
    assert message.payload["msgtype"] == "markdown"
    assert message.text.startswith(
        '## <font color="info">[shipper-alert] RESOLVED: proj-a/nginx/oss-archive</font>\n'
    )
    assert "1 shipper back to normal" in message.text


def test_content_mirrors_the_plain_text_content() -> None:
    report = factories.report(
        factories.shipper(
            "proj-a/nginx/oss-archive",
            [factories.failed("task-1", "denied"), factories.failed("task-2", "denied")],
            stuck_tasks=[factories.stuck("stuck-1")],
            retry=RetryOutcome(("task-1", "task-2"), True, error="Forbidden"),
        ),
        factories.shipper("proj-b/app/to-oss", error=ErrorInfo("Unauthorized", "no role", "req-9")),
        factories.shipper("proj-c/app/to-oss", stall=Stall(None, 0, False)),
        factories.shipper("proj-d/app/to-oss", resolved=True),
        tz=ZoneInfo("Asia/Shanghai"),
        tz_name="Asia/Shanghai",
    )
    [message] = build(report)
    text = message.text
    assert text.startswith(
        '## <font color="warning">[shipper-alert] FIRING: proj-a/nginx/oss-archive and 3 more'
        "</font>\n"
    )
    assert (
        "Window 2026-11-28 15:59:00 to 16:04:00 Asia/Shanghai · 2 failed tasks in 1 shipper, "
        "1 stuck task, 1 stalled shipper, 1 shipper unreadable, 1 resolved</font>"
    ) in text
    assert (
        "**2×** `denied` (code `UnAuthorized`)\n- `task-1` created 15:57:10, failed 15:59:10\n"
    ) in text
    assert (
        "STUCK</font>: 1 task still running\n- `stuck-1` created 14:59:05, running over 1h" in text
    )
    assert 'AUTO_RETRY: retry of 2 tasks <font color="warning">FAILED</font>: `Forbidden`' in text
    assert "cannot read this shipper: `Unauthorized`: `no role` (request id `req-9`)" in text
    assert "STALLED</font>: no task at all in the last 47 hours" in text
    assert '<font color="info">RESOLVED</font>: the previous window breached' in text
    assert text.count("[SLS console](https://sls.console.aliyun.com/") == 4
    assert "\n\n" not in text  # WeCom shows a blank line as one break: bytes saved


def test_dry_run_is_marked() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("t")]), dry_run=True)
    [message] = build(report)
    assert "DRY RUN: nothing was sent" in message.text


def test_build_is_pure_and_repeatable() -> None:
    report = factories.report(factories.shipper(failures=factories.many_failures(50)))
    assert build(report, mobiles=("13800000000",)) == build(report, mobiles=("13800000000",))


def test_content_is_measured_in_utf8_bytes() -> None:
    failures = [factories.failed(f"t-{i:04d}", f"无法写入{i % 9}" * 20) for i in range(300)]
    [message] = build(factories.report(factories.shipper(failures=failures)))
    # Used to within one group line (about 250 bytes here) of the limit:
    assert 3800 < content_bytes(message) <= wecom.MAX_MARKDOWN_BYTES
    assert len(message.text) < 3000  # characters would have let far too much through


def test_findings_too_many_for_one_message_are_split() -> None:
    shippers = [
        factories.shipper(
            f"proj-{s:02d}/store/ship", [factories.failed(f"t{s}-{i}") for i in range(3)]
        )
        for s in range(40)
    ]
    messages = build(factories.report(*shippers), mobiles=("13800000000",))
    *alerts, mention = messages
    assert len(alerts) > 1
    assert mention.payload["msgtype"] == "text"
    for number, message in enumerate(alerts, start=1):
        assert content_bytes(message) <= wecom.MAX_MARKDOWN_BYTES
        assert f"· part {number} of {len(alerts)}</font>" in message.text
    shown = {p for m in alerts for p in re.findall(r"### `(proj-\d\d)/", m.text)}
    assert len(shown) == 40


def test_api_text_is_neutralised_everywhere_it_appears() -> None:
    hostile = '[x](http://evil) <font color="warning">x</font> <@zhangsan> **b**'
    report = factories.report(
        factories.shipper(
            failures=[factories.failed(f"id-{hostile}", hostile, code=hostile)],
            stuck_tasks=[factories.stuck(f"stuck-{hostile}")],
            error=ErrorInfo(hostile, hostile, hostile),
            retry=RetryOutcome(("x",), True, error=hostile),
        )
    )
    [message] = build(report)
    bare = OWN_TAGS.sub("", message.text)
    assert "](http://evil" not in bare
    assert "<" not in bare
    outside_spans = re.sub(r"`[^`]*`", "", bare)
    assert "@" not in outside_spans
    assert "**b**" not in outside_spans
    assert "evil" not in outside_spans
    # What a reader copies: the original but for the characters of a tag or a link (task
    # id, message, code, stuck id, error code, message and request id, retry error, and in
    # the causes the key, listed and with its example).
    copied = '[x]（http://evil) ＜font color="warning"＞x＜/font＞ ＜@zhangsan＞ **b**`'
    assert bare.count("`" + copied) == 8
    assert bare.count("`id-" + copied) == 2


def test_long_api_messages_are_shortened_not_dropped() -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("t", "错" * 5000)]))
    [message] = build(report)
    assert "错" * 199 + "…" in message.text
    assert "- `t` created" in message.text


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("中文", 6, "中文"),
        ("中文字", 8, "中…"),  # the ellipsis is 3 bytes; "文" would cut in half
        ("abcdef", 5, "ab…"),
    ],
)
def test_truncate_utf8_cuts_on_character_boundaries(text, limit, expected) -> None:
    cut = truncate_utf8(text, limit)
    assert cut == expected
    assert len(cut.encode()) <= limit


@pytest.mark.parametrize(
    ("now", "wait"), [(120.0, 60.0), (150.5, 29.5), (178.0, 3.0), (179.9, 3.0)]
)
def test_rate_limit_waits_for_the_next_minute(now: float, wait: float) -> None:
    assert rate_limit_wait(now) == pytest.approx(wait)


@pytest.mark.parametrize(
    ("reply", "retryable", "says"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, True, "rate limited"),
        ({"errcode": -1, "errmsg": "system busy"}, True, "busy"),
        (
            {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"},
            False,
            "WECOM_WEBHOOK_URL",
        ),
        ({"errcode": 40058, "errmsg": "markdown.content exceed max length"}, False, "BUG"),
        ({"errcode": 44004, "errmsg": "empty content"}, False, "empty content"),
        ({"errmsg": "ok"}, True, "without 'errcode'"),
    ],
)
def test_replies_are_classified(reply, retryable, says) -> None:
    failure = interpret_reply(reply, WHERE, 100, now=130.0)
    assert failure is not None
    assert failure.retryable is retryable
    assert failure.retry_after == (50.0 if reply.get("errcode") == 45009 else None)
    assert says in failure.detail
    assert failure.detail.startswith(WHERE)


def test_errcode_zero_is_success() -> None:
    assert interpret_reply({"errcode": 0, "errmsg": "ok"}, WHERE, 10) is None


def test_a_reply_quoting_the_key_is_scrubbed() -> None:
    quoting = {"errcode": 93000, "errmsg": "invalid key 693a91f6-7xxx-4bc4-97a0"}
    notifier()  # its settings hold the URL, whose token is then known to the scrubber
    failure = interpret_reply(quoting, WHERE, 10)
    assert failure is not None
    assert "693a91f6" not in failure.detail
