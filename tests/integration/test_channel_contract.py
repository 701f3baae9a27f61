"""The contract every channel keeps, one row per channel, against its real loopback stand-in.

Each behaviour runs for every row: a normal alert is delivered once; 500 failures fit the
vendor's limit as the stand-in measures it, with totals that stay right; hostile task text
arrives inert; a rate limit is retried once, after the wait the service asks for; a
permanent rejection is not retried and its error carries no secret; and a channel that
fails leaves the others' delivery alone. Channel-specific behaviour (signing, mentions,
per-recipient email, SES, vendor hints) stays in tests/integration/test_notify_<channel>.py.
Adding a channel adds one row here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timezone
from html.parser import HTMLParser
from typing import Any

import pytest

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.base import Notifier
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.dingtalk.notifier import DingTalkNotifier
from shipper_alert.notify.dingtalk.settings import DingTalkSettings
from shipper_alert.notify.email.message import MAX_MESSAGE_BYTES, wire_bytes, without_attachment
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.notify.feishu.notifier import FeishuNotifier
from shipper_alert.notify.feishu.settings import FeishuSettings
from shipper_alert.notify.slack.notifier import MAX_BLOCKS_JSON_CHARS, SlackNotifier
from shipper_alert.notify.slack.settings import SlackSettings
from shipper_alert.notify.webhook.notifier import MAX_BODY_BYTES, WebhookNotifier
from shipper_alert.notify.webhook.settings import WebhookSettings
from shipper_alert.notify.wecom.notifier import WeComNotifier
from shipper_alert.notify.wecom.settings import WeComSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn
from shipper_alert_dev.standins.feishu import FeishuStandIn, nodes
from shipper_alert_dev.standins.slack import SlackStandIn, measure
from shipper_alert_dev.standins.smtp import SmtpStandIn
from shipper_alert_dev.standins.webhook import WebhookStandIn
from shipper_alert_dev.standins.wecom import WeComStandIn

NOW = 1795853105.0  # 08:05:05 UTC: 55 s to the next whole minute
DINGTALK_TOKEN = "contract-dingtalk-token-0a1b"
DINGTALK_SECRET = "SECcontract-dingtalk-secret-2c3d"
SLACK_TOKEN = "contract-slack-token-4e5f"
WECOM_KEY = "contract-wecom-key-6a7b"
FEISHU_TOKEN = "contract-feishu-token-8c9d"
FEISHU_SECRET = "contract-feishu-secret-0e1f"
WEBHOOK_TOKEN = "contract-webhook-token-2a3b"
TO = ("ops@example.com", "oncall@example.com")
TASK_ID = re.compile(r"task-\d{5}")
# The shipper's console page (inferred form) and its confirmed fallback, links.py.
CONSOLE = "https://sls.console.aliyun.com/lognext/project/proj-a/logstore/nginx/shipper/oss-archive"
LOGSEARCH = "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx"
# A task code is API text too: it must be as inert as the messages.
HOSTILE_CODE = "<@zhangsan><b>[x](http://evil)</b>"
# Task messages of 12.6 KB each: 500 of them overflow even the webhook's 1 MB.
BIG = "中文错误信息" * 700


@dataclass(frozen=True)
class Channel:
    """One row: how to reach the channel's stand-in, and what its service accepts."""

    name: str
    start: Callable[[ExitStack], tuple[Any, Notifier]]
    texts: Callable[[Any], list[str]]  # what a person reads, one string a message delivered
    requests: Callable[[Any], int]  # attempts the stand-in saw
    fits: Callable[[Any], bool]  # within the vendor's limit, as the stand-in measures it
    omitted: Callable[[str], int | None]  # the "and N more" the message states
    totals: str  # the exact totals line a person reads for 500 failures
    throttle: Callable[[Any], None]  # the next attempt is rate limited
    wait: float  # what the delivery waits before retrying the rate-limited attempt
    refuse: Callable[[Any], None]  # every next attempt refused for good
    refusal: str  # what the error must quote
    inert: Callable[[Any, str], None]  # asserts hostile text formed no markup
    headline: Callable[[Any], str]  # what a notification preview shows
    secrets: tuple[str, ...]
    many: Callable[[], tuple] = lambda: factories.many_failures(500)


def _http(standin: Any) -> int:
    return len(standin.received)


def _and_more(pattern: str) -> Callable[[str], int | None]:
    def omitted(text: str) -> int | None:
        found = re.search(pattern, text)
        return int(found.group(1)) if found else None

    return omitted


_CODE_SPAN = re.compile(r"`[^`\n]*`")
# What a reader of DingTalk or WeCom copies from the code span of a hostile message: the
# original characters but for the < > of a tag and the "](" / "![" of a link or an image.
MARKDOWN_COPIES = (
    "`**bold** _it_ ~strike~ ˋcodeˋ # heading ＞ quote - item`",
    "`[click me]（http://evil.example/x) ！[img]（http://evil.example/i.png)`",
    "`＜!channel＞ ＜!here＞ ＜@U024BE7LH＞ @all @13800000000`",
)


def _markdown_spans_inert(body: str) -> None:
    """API text only inside code spans, none of which can open a tag or a link."""
    outside = _CODE_SPAN.sub("", body)
    for markup in ("<", ">", "@", "**bold**", "`", "\n> quote", "\n# heading", "\n- item"):
        assert markup not in outside, markup
    for span in _CODE_SPAN.findall(body):
        assert not re.search(r"[<>]|\]\(|!\[", span), span
    for copied in MARKDOWN_COPIES:
        assert copied in body, copied


def _no_foreign_links(text: str) -> None:
    links = re.findall(r"\]\(([^)]*)\)", text)
    assert links == [CONSOLE, LOGSEARCH]
    assert "![" not in text


# -- DingTalk -----------------------------------------------------------------------------------
def _dingtalk(stack: ExitStack) -> tuple[DingTalkStandIn, Notifier]:
    standin = stack.enter_context(
        DingTalkStandIn(DINGTALK_TOKEN, secret=DINGTALK_SECRET, clock=lambda: NOW)
    )
    settings = DingTalkSettings(
        Secret(standin.webhook_url), Secret(DINGTALK_SECRET), ("13800000000",), False
    )
    return standin, DingTalkNotifier(settings, clock=lambda: NOW)


def _dingtalk_inert(standin: DingTalkStandIn, text: str) -> None:
    _no_foreign_links(text)
    body = text.rsplit("\n\n", 1)[0]  # the configured mention is the last paragraph
    _markdown_spans_inert(body)
    assert standin.messages()[0]["at"]["atMobiles"] == ["13800000000"]  # only configured ones


# -- Slack --------------------------------------------------------------------------------------
def _slack(stack: ExitStack) -> tuple[SlackStandIn, Notifier]:
    standin = stack.enter_context(SlackStandIn(f"/services/T0000CTR/B0000CTR/{SLACK_TOKEN}"))
    return standin, SlackNotifier(SlackSettings(Secret(standin.webhook_url)))


def _slack_texts(standin: SlackStandIn) -> list[str]:
    return [
        "\n".join(b["text"]["text"] for b in r.json["blocks"] if b["type"] == "section")
        for r in standin.delivered()
    ]


def _slack_fits(standin: SlackStandIn) -> bool:
    size = measure(standin.delivered()[0].json)
    return (
        size.blocks <= 50
        and size.longest_section <= 3000
        and size.header <= 150
        and size.blocks_chars <= MAX_BLOCKS_JSON_CHARS
    )


def _slack_inert(standin: SlackStandIn, text: str) -> None:
    assert re.findall(r"<[^>]*>", text) == [
        f"<{CONSOLE}|SLS console>",
        f"<{LOGSEARCH}|logstore search>",
    ]
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U024BE7LH&gt;" in text
    assert "<!channel>" not in standin.delivered()[0].text
    assert "<@U024BE7LH>" not in standin.delivered()[0].text
    # In a code span Slack formats nothing and shows the entities as & < >: a reader copies
    # the original (but for the backtick, which no span can hold).
    assert "`**bold** _it_ ~strike~ ˋcodeˋ # heading &gt; quote - item`" in text
    assert "**bold**" not in _CODE_SPAN.sub("", text)
    blocks = standin.delivered()[0].json["blocks"]
    assert all(b["text"]["verbatim"] is True for b in blocks if b["type"] == "section")


# -- WeCom --------------------------------------------------------------------------------------
def _wecom(stack: ExitStack) -> tuple[WeComStandIn, Notifier]:
    standin = stack.enter_context(WeComStandIn(WECOM_KEY))
    return standin, WeComNotifier(WeComSettings(Secret(standin.webhook_url), ()), clock=lambda: NOW)


def _wecom_inert(standin: WeComStandIn, text: str) -> None:
    _no_foreign_links(text)
    bare = re.sub(r'<font color="(info|comment|warning)">|</font>', "", text)
    _markdown_spans_inert(bare)


# -- Feishu -------------------------------------------------------------------------------------
def _feishu(stack: ExitStack) -> tuple[FeishuStandIn, Notifier]:
    standin = stack.enter_context(
        FeishuStandIn(FEISHU_TOKEN, secret=FEISHU_SECRET, clock=lambda: NOW)
    )
    settings = FeishuSettings(Secret(standin.webhook_url), Secret(FEISHU_SECRET))
    return standin, FeishuNotifier(settings, clock=lambda: NOW)


def _feishu_texts(standin: FeishuStandIn) -> list[str]:
    return ["\n".join(n.get("text", "") for n in nodes(body)) for body in standin.messages()]


def _feishu_inert(standin: FeishuStandIn, text: str) -> None:
    every = list(nodes(standin.messages()[0]))
    assert [n["tag"] for n in every if n["tag"] != "text"] == ["a", "a"]  # ours: console links
    assert [n["href"] for n in every if n["tag"] == "a"] == [CONSOLE, LOGSEARCH]
    assert not any("\n" in n["text"] for n in every)
    assert not any("un_escape" in n for n in every)
    assert "[click me](http://evil.example/x)" in text
    assert '<at user_id="all">所有人</at>' in text  # a literal text node, shown as written


# -- generic webhook ----------------------------------------------------------------------------
def _webhook(stack: ExitStack) -> tuple[WebhookStandIn, Notifier]:
    standin = stack.enter_context(WebhookStandIn(f"/hooks/contract/{WEBHOOK_TOKEN}"))
    return standin, WebhookNotifier(WebhookSettings(Secret(standin.webhook_url)))


def _webhook_texts(standin: WebhookStandIn) -> list[str]:
    return [json.dumps(r.json, ensure_ascii=False) for r in standin.delivered()]


def _webhook_omitted(text: str) -> int | None:
    document = json.loads(text)
    assert document["totals"]["failed"] == 500
    assert document["alerts"][0]["failedTasksOmitted"] == document["truncatedTasks"]
    return document["truncatedTasks"]


def _webhook_inert(standin: WebhookStandIn, text: str) -> None:
    document = standin.delivered()[0].json
    messages = [t["message"] for t in document["alerts"][0]["failedTasks"]]
    assert messages == list(factories.HOSTILE_MESSAGES)  # verbatim, as JSON strings
    raw = standin.delivered()[0].body
    assert b'"**bold** _it_ ~strike~ `code` # heading\\n> quote\\n- item"' in raw


# -- email (SMTP) -------------------------------------------------------------------------------
def _email(stack: ExitStack) -> tuple[SmtpStandIn, Notifier]:
    standin = stack.enter_context(SmtpStandIn())  # 10 MiB: room for the CSV attachment
    settings = EmailSettings(
        to=TO,
        sender="Shipper Alerts <alerts@example.com>",
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=standin.port,
        smtp_security="none",
        smtp_username=None,
        smtp_password=None,
        ses_region=None,
    )
    return standin, EmailNotifier(settings)


class _Tags(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def _email_inert(standin: SmtpStandIn, text: str) -> None:
    page = _Tags(standin.received[0].html)
    assert "script" not in {tag for tag, _ in page.tags}
    assert [attrs["href"] for tag, attrs in page.tags if tag == "a"] == [CONSOLE, LOGSEARCH]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in standin.received[0].html
    assert not any(line.startswith(("> quote", "- item", "# ")) for line in text.splitlines())


CHANNELS = (
    Channel(
        "dingtalk",
        _dingtalk,
        texts=lambda s: [m["markdown"]["text"] for m in s.messages()],
        requests=_http,
        fits=lambda s: len(s.delivered()[0].body) <= 20000,
        omitted=_and_more(r"\*\*and (\d+) more not shown\*\*"),
        totals="500 failed, 5 succeeded, 1 running",
        throttle=lambda s: s.rate_limit_next(),
        wait=5.0,  # the throttle reply's `wait`
        refuse=lambda s: s.fail_next(
            Reply(200, {"errcode": 300001, "errmsg": "token is not exist"}, accepted=False), 5
        ),
        refusal="errcode 300001: token is not exist",
        inert=_dingtalk_inert,
        headline=lambda s: s.messages()[0]["markdown"]["title"],
        secrets=(DINGTALK_TOKEN, DINGTALK_SECRET),
    ),
    Channel(
        "slack",
        _slack,
        texts=_slack_texts,
        requests=_http,
        fits=_slack_fits,
        omitted=_and_more(r"\*and (\d+) more not shown\* \(the counts above are complete\)"),
        totals="*BREACHED*: 500 failed, 5 succeeded, 1 running",
        throttle=lambda s: s.rate_limit_next(retry_after=7),
        wait=7.0,  # its Retry-After
        refuse=lambda s: s.fail_next(Reply(404, "no_service"), 5),
        refusal="HTTP 404: no_service",
        inert=_slack_inert,
        headline=lambda s: s.delivered()[0].json["blocks"][0]["text"]["text"],
        secrets=(SLACK_TOKEN, "B0000CTR"),
    ),
    Channel(
        "wecom",
        _wecom,
        texts=lambda s: [m["markdown"]["content"] for m in s.messages()],
        requests=_http,
        fits=lambda s: len(s.messages()[0]["markdown"]["content"].encode()) <= 4096,
        omitted=_and_more(r"\*\*and (\d+) more not shown\*\*"),
        totals="500 failed, 5 succeeded, 1 running",
        throttle=lambda s: s.rate_limit_next(),
        wait=55.0,  # to the next whole minute
        refuse=lambda s: s.fail_next(
            Reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"}, accepted=False), 5
        ),
        refusal="errcode 93000: invalid webhook url",
        inert=_wecom_inert,
        headline=lambda s: s.messages()[0]["markdown"]["content"].split("\n", 1)[0],
        secrets=(WECOM_KEY,),
    ),
    Channel(
        "feishu",
        _feishu,
        texts=_feishu_texts,
        requests=_http,
        fits=lambda s: len(s.delivered()[0].body) <= 20_000,
        omitted=_and_more(r"and (\d+) more not shown \(the counts above are complete\)"),
        totals="BREACHED: 500 failed, 5 succeeded, 1 running",
        throttle=lambda s: s.rate_limit_next(),
        wait=1.0,  # no reset header: the delivery's first back-off
        refuse=lambda s: s.fail_next(
            Reply(200, {"code": 19021, "msg": "sign match fail"}, accepted=False), 5
        ),
        refusal="code 19021: sign match fail",
        inert=_feishu_inert,
        headline=lambda s: s.messages()[0]["content"]["post"]["zh_cn"]["title"],
        secrets=(FEISHU_TOKEN, FEISHU_SECRET),
    ),
    Channel(
        "webhook",
        _webhook,
        texts=_webhook_texts,
        requests=_http,
        fits=lambda s: len(s.delivered()[0].body) <= MAX_BODY_BYTES,
        omitted=_webhook_omitted,
        totals='"failed": 500',
        throttle=lambda s: s.fail_next(Reply(429, "slow down", {"Retry-After": "12"})),
        wait=12.0,  # its Retry-After
        refuse=lambda s: s.fail_next(Reply(403, "no"), 5),
        refusal="HTTP 403: no",
        inert=_webhook_inert,
        headline=lambda s: s.delivered()[0].json["title"],
        secrets=(WEBHOOK_TOKEN,),
        many=lambda: tuple(
            factories.failed(f"task-{i:05d}", f"{BIG} #{i % 3}", at=i % 290) for i in range(500)
        ),
    ),
    Channel(
        "email",
        _email,
        texts=lambda s: [mail.text for mail in s.received],
        requests=lambda s: s.transactions,
        fits=lambda s: (
            len(wire_bytes(without_attachment(s.received[0].message))) <= MAX_MESSAGE_BYTES
            and len(s.received[0].attachments) == 1
        ),
        omitted=_and_more(r"and (\d+) more items not shown \(the counts above are complete\)"),
        totals="BREACHED: 500 failed, 5 succeeded, 1 running",
        throttle=lambda s: s.refuse_next("DATA", "454 4.7.0 Throttling failure: rate exceeded."),
        wait=1.0,  # SMTP names no wait: the delivery's first back-off
        refuse=lambda s: s.refuse_next("MAIL", "550 5.7.1 Sender address rejected", 5),
        refusal="550 5.7.1 Sender address rejected",
        inert=_email_inert,
        headline=lambda s: s.received[0].message["Subject"],
        secrets=(),
    ),
)


@pytest.fixture(params=CHANNELS, ids=[c.name for c in CHANNELS])
def channel(request: pytest.FixtureRequest) -> Iterator[tuple[Channel, Any, Notifier]]:
    row: Channel = request.param
    with ExitStack() as stack:
        standin, notifier = row.start(stack)
        stack.callback(notifier.close)
        yield row, standin, notifier


def deliver(*notifiers: Notifier, report) -> tuple[list[DeliveryResult], list[float]]:
    sleeps: list[float] = []
    renderer = Renderer(None, timezone.utc)
    plan = [(n, n.build(report, renderer)) for n in notifiers]
    results = deliver_all(plan, Deadline(120), sleep=sleeps.append, rng=lambda low, high: high)
    return results, sleeps


def one_failure():
    return factories.report(factories.shipper(failures=[factories.failed("task-00001")]))


def test_a_normal_alert_is_delivered_once_with_every_task(channel):
    row, standin, notifier = channel
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "NoSuchBucket: 指定的存储空间不存在", "NoSuchBucket"),
        factories.failed("task-00003", "UnAuthorized: role cannot write bucket", at=7),
    ]
    [result], sleeps = deliver(
        notifier, report=factories.report(factories.shipper(failures=failures))
    )
    assert (result.delivered, result.attempts, result.error, sleeps) == (True, 1, None, [])
    [text] = row.texts(standin)
    assert set(TASK_ID.findall(text)) == {"task-00001", "task-00002", "task-00003"}
    assert "UnAuthorized: role cannot write bucket" in text
    assert "NoSuchBucket: 指定的存储空间不存在" in text
    assert "task-00004" not in text
    assert row.requests(standin) == 1


def test_500_failures_fit_the_limit_with_totals_right(channel):
    row, standin, notifier = channel
    [result], _ = deliver(notifier, report=factories.report(factories.shipper(failures=row.many())))
    assert (result.delivered, result.attempts, result.messages) == (True, 1, 1)
    assert row.fits(standin)
    [text] = row.texts(standin)
    # The causes' example ids aside:
    details = factories.task_lines(text)
    shown = set(TASK_ID.findall(details))
    assert 0 < len(shown) < 500
    assert row.omitted(text) == 500 - len(shown)
    assert row.totals in text
    assert "[shipper-alert] FIRING: proj-a/nginx/oss-archive" in row.headline(standin)


def test_hostile_task_text_arrives_inert(channel):
    row, standin, notifier = channel
    failures = [
        factories.failed(f"task-{i:05d}", message, code=HOSTILE_CODE)
        for i, message in enumerate(factories.HOSTILE_MESSAGES)
    ]
    [result], _ = deliver(notifier, report=factories.report(factories.shipper(failures=failures)))
    assert result.delivered
    [text] = row.texts(standin)
    assert set(TASK_ID.findall(text)) == {f"task-{i:05d}" for i in range(len(failures))}
    assert "中文错误信息" in text  # the 4 KB CJK message arrives, shortened or not
    assert row.fits(standin)
    row.inert(standin, text)


def test_a_rate_limit_is_retried_once_after_the_asked_wait(channel):
    row, standin, notifier = channel
    row.throttle(standin)
    [result], sleeps = deliver(notifier, report=one_failure())
    assert (result.delivered, result.attempts, result.error) == (True, 2, None)
    assert sleeps == [row.wait]
    assert row.requests(standin) == 2
    assert len(row.texts(standin)) == 1  # delivered once, not twice


def test_a_permanent_rejection_is_not_retried_and_names_no_secret(channel, caplog):
    row, standin, notifier = channel
    caplog.set_level("DEBUG")
    row.refuse(standin)
    [result], sleeps = deliver(notifier, report=one_failure())
    assert (result.delivered, result.attempts, sleeps) == (False, 1, [])
    assert row.requests(standin) == 1
    assert row.texts(standin) == []
    assert result.error is not None
    assert row.refusal in result.error
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("shipper_alert"))
    assert "not delivered" in ours  # the failure was logged ...
    for secret in row.secrets:
        assert secret not in result.error
        assert secret not in ours  # ... without a secret (urllib3's own DEBUG lines aside)


def test_a_failing_channel_leaves_the_others_alone(channel):
    row, standin, notifier = channel
    row.refuse(standin)
    with WebhookStandIn("/hooks/other/bystander") as other:
        bystander = WebhookNotifier(WebhookSettings(Secret(other.webhook_url)))
        try:
            [failed, delivered], _ = deliver(notifier, bystander, report=one_failure())
        finally:
            bystander.close()
        assert (failed.channel, failed.delivered) == (row.name, False)
        assert (delivered.channel, delivered.delivered, delivered.attempts) == ("webhook", True, 1)
        assert len(other.delivered()) == 1
        assert "task-00001" in other.delivered()[0].text
    assert row.texts(standin) == []


CAUSE_CODES = ("UnAuthorized", "InvalidOssBucket", "NoSuchPartition", "InternalServerError")
TABLE = "table=shop_dw.nginx_access"


def test_every_cause_comes_before_the_first_task_id_with_its_exact_count(channel):
    row, standin, notifier = channel
    failures = [
        factories.failed(f"task-{i:05d}", f"write to {TABLE} failed", CAUSE_CODES[i % 4], i % 290)
        for i in range(400)
    ]
    [result], _ = deliver(notifier, report=factories.report(factories.shipper(failures=failures)))
    assert (result.delivered, result.messages) == (True, 1)
    assert row.fits(standin)
    [text] = row.texts(standin)
    if row.name == "webhook":  # a document: the causes are a field of their own
        causes = json.loads(text)["causes"]
        assert sorted((c["key"], c["count"]) for c in causes) == sorted(
            (code, 100) for code in CAUSE_CODES
        )
        assert all(len(c["exampleTaskIds"]) == 3 for c in causes)
    else:
        first_task = TASK_ID.search(text).start()
        for code in CAUSE_CODES:
            cause = re.search(rf"100×\**\s`?{code}`? on ", text)
            assert cause is not None, code
            assert cause.start() < first_task, code
    # What a reader copies from the message is the table name itself.
    assert TABLE in text
