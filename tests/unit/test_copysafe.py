"""Copy-safe text per channel: the exact characters a reader copies, and inert hostile text.

`copied_*` model what each client shows for a fragment (and so what a reader copies): Slack
drops the span's backticks and shows its three entities as characters; a markdown client
drops the backticks; Feishu shows a text node as it is; a mail client shows HTML's text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from shipper_alert.copysafe import (
    FILTERS,
    feishu_text,
    html_code,
    html_text,
    markdown_code,
    one_line,
    plain_text,
    slack_code,
)


def copied_slack(fragment: str) -> str:
    assert fragment.startswith("`")
    assert fragment.endswith("`")
    body = fragment[1:-1]
    assert "`" not in body
    return body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def copied_markdown(fragment: str) -> str:
    assert fragment.startswith("`")
    assert fragment.endswith("`")
    body = fragment[1:-1]
    assert "`" not in body
    return body


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.parts.append(data)


def copied_html(fragment: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(fragment)
    return "".join(parser.parts), parser.tags


COPYABLE = [
    "c1411eb7291c77560ba31fc65bc73c52",
    "UnAuthorized",
    "table=shop_dw.nginx_access",
    "my-bucket.v2_logs",
    "ODPS-0123031",
    "oss://shop_dw-archive/nginx_access/2026/11/28/",
    "partition dt='2026-11-28' of table shop_dw.nginx_access does not exist",
    "quota *exceeded* ~now~ #3 > 90% & rising",
    "a (b) [c] !d",
]


@pytest.mark.parametrize("text", COPYABLE)
def test_slack_reader_copies_the_original_characters(text):
    assert copied_slack(slack_code(text)) == text


@pytest.mark.parametrize("text", [t for t in COPYABLE if not re.search(r"[<>]", t)])
def test_markdown_reader_copies_the_original_characters(text):
    assert copied_markdown(markdown_code(text)) == text


@pytest.mark.parametrize("text", COPYABLE)
def test_feishu_and_html_readers_copy_the_original_characters(text):
    assert feishu_text(text) == {"tag": "text", "text": text}
    assert copied_html(html_text(text))[0] == text
    shown, tags = copied_html(html_code(text))
    assert (shown, tags) == (text, ["code"])
    assert "white-space:nowrap" in html_code(text)


def test_exact_fragments_for_the_table_name_in_every_channel():
    name = "table=shop_dw.nginx_access"
    assert slack_code(name) == "`table=shop_dw.nginx_access`"
    assert markdown_code(name) == "`table=shop_dw.nginx_access`"
    assert feishu_text(name)["text"] == "table=shop_dw.nginx_access"
    assert html_text(name) == "table=shop_dw.nginx_access"
    assert plain_text(name) == "table=shop_dw.nginx_access"
    assert "\u00ad" not in html_code(name)
    assert "\u200b" not in html_code(name)


HOSTILE = [
    "[click here](https://evil.example/x)",
    "![img](https://evil.example/p.png)",
    "<https://evil.example|click here>",
    "<!channel> <!here> <@U0123ABC> <!subteam^S01>",
    '<at user_id="all"></at> <@zhangsan>',
    '<font color="warning">fake</font> <a href="https://evil.example">x</a>',
    "break `out` of the span",
    "line one\n# forged heading\n> forged quote",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_slack_hostile_text_stays_inert(text):
    fragment = slack_code(text)
    body = fragment[1:-1]
    assert "<" not in body
    assert ">" not in body
    assert "`" not in body
    assert "\n" not in body
    assert copied_slack(fragment) == one_line(text).replace("`", "ˋ")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_hostile_text_stays_inert(text):
    body = markdown_code(text)[1:-1]
    assert "<" not in body
    assert ">" not in body
    assert "](" not in body
    assert "![" not in body
    assert "`" not in body
    assert "\n" not in body


def test_markdown_hostile_link_exact_characters():
    assert markdown_code("[click](https://evil.example)") == "`[click]（https://evil.example)`"
    assert markdown_code("<@zhangsan>") == "`＜@zhangsan＞`"
    assert slack_code("<!channel> & co") == "`&lt;!channel&gt; &amp; co`"
    assert slack_code("a `b` c") == "`a ˋbˋ c`"


@pytest.mark.parametrize("text", HOSTILE)
def test_feishu_and_html_hostile_text_stays_inert(text):
    node = feishu_text(text)
    assert set(node) == {"tag", "text"}
    assert node["tag"] == "text"
    assert "\n" not in node["text"]
    shown, tags = copied_html(html_text(text))
    assert tags == []
    assert shown == one_line(text)


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("x" * 10, 5, "xxxx…"),
        ("short", 5, "short"),
        ("a\r\nb\tc", None, "a b c"),
        ("  ", None, ""),
    ],
)
def test_one_line_cuts_visibly(value, limit, expected):
    assert one_line(value, limit) == expected


def test_cut_happens_before_escaping_so_no_entity_is_halved():
    assert slack_code("&&&&&&", limit=3) == "`&amp;&amp;…`"
    assert html_text("<<<<", limit=2) == "&lt;…"


def test_empty_value_is_a_visible_placeholder_and_filters_are_named_per_markup():
    assert slack_code("") == "`-`"
    assert markdown_code("  ") == "`-`"
    assert set(FILTERS) == {"slack_code", "markdown_code", "html_code", "html_text", "plain_text"}
