"""Slack payload building: Block Kit shape, the limits of
https://docs.slack.dev/reference/block-kit/blocks, and escaping.

Limits are checked with the stand-in's own validator and measure
(`shipper_alert_dev.standins.slack`), so "fits" means what the stand-in would accept.
"""

from __future__ import annotations

import re
from datetime import timezone

import pytest

import factories
from shipper_alert.config import Channels
from shipper_alert.notify.registry import build_notifiers
from shipper_alert.notify.slack import notifier as slack
from shipper_alert.notify.slack.notifier import (
    MAX_BLOCKS_JSON_CHARS,
    SlackNotifier,
    link_url,
    shorten,
    slack_length,
    split_sections,
)
from shipper_alert.notify.slack.settings import SlackSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert_dev.standins.slack import blocks_problem, measure

URL = "https://hooks.slack.com/services/T0000/B0000/unit-test-token"
TASK_ID = re.compile(r"task-\d{5}")
CONSOLE_LINK = re.compile(
    r"<https://sls\.console\.aliyun\.com/[^<>|]*\|(?:SLS console|logstore search)>"
)


def build(report, renderer: Renderer | None = None):
    notifier = SlackNotifier(SlackSettings(Secret(URL)))
    try:
        return notifier.build(report, renderer or Renderer(None, timezone.utc))
    finally:
        notifier.close()


def section_texts(payload) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def assert_fits(payload) -> None:
    assert blocks_problem(payload["blocks"]) is None
    size = measure(payload)
    assert size.blocks <= 50
    assert size.longest_section <= 3000
    assert size.header <= 150
    assert size.blocks_chars <= MAX_BLOCKS_JSON_CHARS


def test_slack_length_counts_utf16_code_units():
    assert slack_length("abc") == 3
    assert slack_length("中文") == 2  # BMP: one each, as Python's len()
    assert slack_length("🔥") == 2  # outside the BMP: a surrogate pair
    assert slack_length("&amp;") == 5  # counted as sent


def test_split_sections_cuts_at_line_breaks_within_the_limit():
    lines = [f"line {i:03d} " + "x" * 40 for i in range(300)]
    chunks = split_sections("\n".join(lines), limit=500)
    assert all(slack_length(c) <= 500 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines  # nothing lost, nothing reordered
    assert len(chunks) > 1


def test_split_sections_cuts_a_long_line_outside_entities():
    line = "&amp;" * 1000  # 5000 characters, entities only
    chunks = split_sections(line, limit=3000)
    assert "".join(chunks) == line
    for chunk in chunks:
        assert slack_length(chunk) <= 3000
        assert re.fullmatch(r"(&amp;)+", chunk), "an entity was cut in half"


def test_shorten_marks_what_it_cuts():
    assert shorten("short", 150) == "short"
    cut = shorten("x" * 200, 150)
    assert slack_length(cut) == 150
    assert cut.endswith("…")


def test_link_url_cannot_end_the_link_early():
    assert link_url("https://x/a|b>c<d&e") == "https://x/a%7Cb%3Ec%3Cd&amp;e"


def test_normal_alert_has_header_fallback_and_every_task():
    failures = [
        factories.failed("task-00001", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-00002", "UnAuthorized: role cannot write bucket", at=3),
        factories.failed("task-00003", "NoSuchBucket", "NoSuchBucket", at=5),
    ]
    (message,) = build(factories.report(factories.shipper(failures=failures)))
    payload = message.payload
    assert_fits(payload)
    header = payload["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "[shipper-alert] FIRING: proj-a/nginx/oss-archive"},
    }
    # The notification text: the push line (title, counts, causes) and window.
    assert payload["text"].startswith(
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 3 failed tasks · "
        "UnAuthorized ×2, NoSuchBucket ×1 | "
    )
    assert "2026-11-28 07:59:00 to 08:04:00 UTC" in payload["text"]
    body = "\n".join(section_texts(payload))
    for task in failures:
        assert f"`{task.id}`" in body
    assert "*2×* `UnAuthorized: role cannot write bucket` `UnAuthorized`" in body
    assert "*1×* `NoSuchBucket` `NoSuchBucket`" in body
    assert "*BREACHED*: 3 failed, 5 succeeded, 1 running (failure ratio 37.5%)" in body
    assert CONSOLE_LINK.search(body)
    assert "not shown" not in body


def test_500_failures_fit_and_say_exactly_how_many_are_left_out():
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    (message,) = build(report)
    payload = message.payload
    assert_fits(payload)
    # Close to the self-imposed total: the budget is used, not wasted.
    assert measure(payload).blocks_chars > MAX_BLOCKS_JSON_CHARS - 200
    body = "\n".join(section_texts(payload))
    # The causes' example ids aside, the task lines:
    details = factories.task_lines(body)
    shown = set(TASK_ID.findall(details))
    assert 0 < len(shown) < 500
    assert f"*and {500 - len(shown)} more not shown*" in body
    assert "*BREACHED*: 500 failed, 5 succeeded, 1 running" in body
    assert "*500×* `UnAuthorized` on `proj-a/nginx/oss-archive` ×500" in body
    # Per group: shown + "and N more with this message" adds up to the group's count.
    groups = re.findall(r"^\*(\d+)×\* (.*?)(?=\n\*\d+×\*|\Z)", details, re.S | re.M)
    assert [int(count) for count, _ in groups] == [167, 167, 166]
    for count, rest in groups:
        listed = len(TASK_ID.findall(rest))
        more = re.search(r"and (\d+) more with this message", rest)
        assert listed + (int(more.group(1)) if more else 0) == int(count)


def test_hostile_messages_are_inert_in_mrkdwn():
    failures = [
        factories.failed(f"id-{i}", text, code=f"<!channel>{i}")
        for i, text in enumerate(factories.HOSTILE_MESSAGES)
    ]
    (message,) = build(factories.report(factories.shipper(failures=failures)))
    payload = message.payload
    assert_fits(payload)
    for block in payload["blocks"]:
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        for obj in texts:
            if obj["type"] == "mrkdwn":
                assert obj["verbatim"] is True  # no auto-linking of URLs or @names
    body = "\n".join(section_texts(payload))
    # The only control sequence left is our own console link.
    assert re.findall(r"<[^>]*>", body) == CONSOLE_LINK.findall(body)
    assert "&lt;!channel&gt;" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&amp;amp; &amp; &lt; &gt;" in body
    # API text is in code spans, where Slack formats nothing; what a reader copies:
    assert "`**bold** _it_ ~strike~ ˋcodeˋ # heading &gt; quote - item`" in body
    outside_spans = re.sub(r"`[^`]*`", "", body)
    for emphasis in ("**bold**", "_it_", "~strike~", "channel", "script"):
        assert emphasis not in outside_spans
    # Line breaks in API text cannot forge lines: the heading/quote text stays on its line.
    assert re.search(r"# heading &gt; quote - item", body)
    # The 4 KB CJK message is shown, cut visibly at 500 characters.
    assert ("中文错误信息" * 83 + "中") in body
    assert "中文错误信息" * 84 not in body
    assert "信息中…" in body


def test_header_is_cut_to_150_characters():
    report = factories.report(
        *[
            factories.shipper(f"p{i:02d}x/l/s", failures=[factories.failed(f"t{i}")])
            for i in range(3)
        ]
    )

    class LongHeadline(Renderer):
        def render(self, name, **context):
            text = super().render(name, **context)
            return text + " " + "x" * 300 if name == "slack.header.j2" else text

    (message,) = build(report, LongHeadline(None, timezone.utc))
    header = message.payload["blocks"][0]["text"]["text"]
    assert slack_length(header) == 150
    assert header.endswith("…")


def test_too_many_shippers_for_50_blocks_are_split_into_parts():
    shippers = [
        factories.shipper(f"proj-{i:03d}/logs/oss", failures=[factories.failed(f"t-{i:03d}")])
        for i in range(70)
    ]
    messages = build(factories.report(*shippers))
    assert len(messages) > 1
    seen = []
    for index, message in enumerate(messages, start=1):
        assert_fits(message.payload)
        header = message.payload["blocks"][0]["text"]["text"]
        assert header.endswith(f" · part {index} of {len(messages)}")
        # Totals stay the whole check's in every part.
        assert header.startswith("[shipper-alert] FIRING: proj-000/logs/oss and 69 more")
        context = message.payload["blocks"][1]["elements"][0]["text"]
        assert "70 failed tasks in 70 shippers" in context
        seen += re.findall(r"\*(proj-\d{3})/logs/oss\*", "\n".join(section_texts(message.payload)))
    assert sorted(seen) == [f"proj-{i:03d}" for i in range(70)]


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (51, False),
        (50, True),
    ],
)
def test_fits_counts_blocks(blocks, expected):
    payload = {"text": "x", "blocks": [{"type": "divider"}] * blocks}
    message = slack.Outgoing(channel="slack", title="t", text="x", payload=payload)
    assert slack.fits(message) is expected


def test_fits_refuses_a_long_section_and_header():
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    long_header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    for block in (long_section, long_header):
        message = slack.Outgoing("slack", "t", "x", {"text": "x", "blocks": [block]})
        assert not slack.fits(message)


def test_the_registry_builds_it_from_the_settings_alone():
    (notifier,) = build_notifiers(Channels(slack=SlackSettings(Secret(URL))))
    try:
        assert isinstance(notifier, SlackNotifier)
        assert notifier.name == "slack"
    finally:
        notifier.close()
