"""Every channel shows a breached shipper's timeline and links to its console page."""

from __future__ import annotations

import email
from dataclasses import replace
from email.policy import default as default_policy

import pytest

import factories
from shipper_alert.history import TimelineCounter
from shipper_alert.notify.dingtalk.notifier import DingTalkNotifier
from shipper_alert.notify.dingtalk.settings import DingTalkSettings
from shipper_alert.notify.email.message import wire_bytes
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.feishu.notifier import FeishuNotifier
from shipper_alert.notify.feishu.settings import FeishuSettings
from shipper_alert.notify.slack.notifier import SlackNotifier
from shipper_alert.notify.slack.settings import SlackSettings
from shipper_alert.notify.webhook.notifier import WebhookNotifier
from shipper_alert.notify.webhook.settings import WebhookSettings
from shipper_alert.notify.wecom.notifier import WeComNotifier
from shipper_alert.notify.wecom.settings import WeComSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.samples import sample_email_settings

BARS = "failed ···········▄█ · succeeded ▄▄▄▄▄▄▄▄▄▄▄▄·"
LABEL = "06:59–08:04 UTC, 5m a bar"
SHIPPER_PAGE = (
    "https://sls.console.aliyun.com/lognext/project/proj-a/logstore/nginx/shipper/oss-archive"
    "?slsRegion=cn-hangzhou"
)
LOGSEARCH_PAGE = (
    "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx?slsRegion=cn-hangzhou"
)


def timeline():
    window = factories.WINDOW
    counter = TimelineCounter("proj-a/nginx/oss-archive", window, 3600, 300)
    records = [
        {"id": f"ok-{i}", "taskStatus": "success", "taskFinishTime": window.end - 60 - 300 * i}
        for i in range(13)
    ]
    records[0] = {**records[0], "taskStatus": "fail"}  # the last bar: failed only
    records += [{"id": "f-1", "taskStatus": "fail", "taskFinishTime": window.end - 30}]
    records += [{"id": "f-late", "taskStatus": "fail", "taskFinishTime": window.end - 400}]
    records += [{"id": "f-late", "taskStatus": "fail", "taskFinishTime": window.end - 400}]  # again
    counter.add_records(records)
    return counter.result()


def report(region="cn-hangzhou"):
    shipper = factories.shipper(failures=[factories.failed("task-1")])
    base = factories.report(replace(shipper, timeline=timeline()))
    return replace(base, region=region)


def build(notifier, rep=None):
    rep = rep or report()
    try:
        return notifier.build(rep, Renderer(None, rep.timezone))
    finally:
        notifier.close()


def slack_text(message) -> str:
    blocks = message.payload["blocks"]
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def feishu_nodes(message):
    for paragraph in message.payload["content"]["post"]["zh_cn"]["content"]:
        yield from paragraph


def markdown_text(message) -> str:
    return message.payload["markdown"][
        "text" if "text" in message.payload["markdown"] else "content"
    ]


def test_the_timeline_counts_each_task_once():
    buckets = timeline().buckets
    assert [b.failed for b in buckets] == [0] * 11 + [1, 2]
    assert [b.succeeded for b in buckets] == [1] * 12 + [0]
    assert len(buckets) == 13  # the 5-minute window and 1 hour of lookback, 5 minutes a bar


def test_slack_shows_the_bar_line_in_a_code_span_and_both_console_links():
    (message,) = build(
        SlackNotifier(SlackSettings(Secret("https://hooks.slack.com/services/T/B/x")))
    )
    text = slack_text(message)
    assert f"`{BARS}`  {LABEL}" in text
    assert f"<{SHIPPER_PAGE}|SLS console>  ·  <{LOGSEARCH_PAGE}|logstore search>" in text


@pytest.mark.parametrize(
    "notifier",
    [
        lambda: DingTalkNotifier(
            DingTalkSettings(
                Secret("https://oapi.dingtalk.com/robot/send?access_token=x"), None, (), False
            )
        ),
        lambda: WeComNotifier(
            WeComSettings(Secret("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"), ())
        ),
    ],
    ids=["dingtalk", "wecom"],
)
def test_markdown_channels_show_the_bar_line_in_a_code_span_and_both_links(notifier):
    (message,) = build(notifier())
    text = markdown_text(message)
    assert f"`{BARS}` {LABEL}" in text
    assert f"[SLS console]({SHIPPER_PAGE}) · [logstore search]({LOGSEARCH_PAGE})" in text


def test_feishu_shows_the_bar_line_as_a_literal_text_node_and_both_links():
    (message,) = build(
        FeishuNotifier(
            FeishuSettings(Secret("https://open.feishu.cn/open-apis/bot/v2/hook/x"), None)
        )
    )
    nodes = list(feishu_nodes(message))
    assert {"tag": "text", "text": f"{BARS}  {LABEL}"} in nodes
    assert [n["href"] for n in nodes if n["tag"] == "a"] == [SHIPPER_PAGE, LOGSEARCH_PAGE]


def test_email_has_the_chart_in_html_and_the_bar_line_in_plain_text():
    (message,) = build(EmailNotifier(sample_email_settings()))
    parsed = email.message_from_bytes(wire_bytes(message.payload), policy=default_policy)
    html = parsed.get_body(("html",)).get_content()
    plain = parsed.get_body(("plain",)).get_content()
    assert 'aria-label="proj-a/nginx/oss-archive: 3 failed, 12 succeeded; ' + LABEL + '"' in html
    assert html.index("aria-label=") > html.index("UnAuthorized")  # after the causes
    assert f"{BARS}  {LABEL}" in plain
    assert f'<a href="{SHIPPER_PAGE}">' in html
    assert f'<a href="{LOGSEARCH_PAGE}">' in html
    assert f"Console: {SHIPPER_PAGE}" in plain


def test_the_webhook_carries_the_counts_and_both_links():
    (message,) = build(WebhookNotifier(WebhookSettings(Secret("https://hooks.example.com/in/x"))))
    (alert,) = message.payload["alerts"]
    assert alert["timeline"] == {
        "from": factories.WINDOW.end - 13 * 300,
        "to": factories.WINDOW.end,
        "interval": 300,
        "failed": [0] * 11 + [1, 2],
        "succeeded": [1] * 12 + [0],
    }
    assert (alert["consoleUrl"], alert["consoleFallbackUrl"]) == (SHIPPER_PAGE, LOGSEARCH_PAGE)


def test_a_region_that_is_no_region_id_gives_links_without_a_region():
    (message,) = build(
        WebhookNotifier(WebhookSettings(Secret("https://hooks.example.com/in/x"))),
        report(region="not a region"),
    )
    (alert,) = message.payload["alerts"]
    assert alert["consoleUrl"] == SHIPPER_PAGE.partition("?")[0]
