"""Copy-safe text: API text (ids, codes, messages, table and bucket names) in each channel's
markup, so that a reader who copies it gets the original characters back, while it still
cannot add a link, a mention or markup.

One rule per markup, each a pure function that returns the finished fragment (the code span
with its delimiters, the Feishu node, the HTML element), ready to be a Jinja2 filter:

- every value is one line: line breaks and tabs become one space (no forged lines);
- `limit` cuts long text visibly ("…") before escaping, so an entity is never cut in half;
- a backtick cannot be escaped inside a single-backtick code span, so it alone becomes the
  look-alike "ˋ" (U+02CB); every other character is kept where the markup allows it.
"""

from __future__ import annotations

import html
import re
from typing import Any

ELLIPSIS = "…"
BACKTICK_LOOKALIKE = "ˋ"
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")


def one_line(value: Any, limit: int | None = None) -> str:
    """The text on one line, cut at `limit` characters with a visible "…"."""
    text = _LINE_BREAKS.sub(" ", str(value)).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


def _span_body(value: Any, limit: int | None) -> str:
    text = one_line(value, limit).replace("`", BACKTICK_LOOKALIKE)
    # An empty span or one of spaces only is not a code span: show a visible placeholder.
    return text if text.strip() else "-"


# Slack mrkdwn: "three characters you must convert to HTML entities and only three"
# (https://api.slack.com/docs/message-formatting). Inside a code span
# * _ ~ > are literal, and Slack shows (and copies) the entities as & < >.
_SLACK_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def slack_code(value: Any, limit: int | None = None) -> str:
    """A Slack mrkdwn code span: `text` with & < > as entities, everything else as is."""
    return "`" + _span_body(value, limit).translate(_SLACK_ENTITIES) + "`"


# DingTalk and WeCom markdown document no escape (DingTalk:
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages; WeCom:
# https://developer.work.weixin.qq.com/document/path/91770). Their clients read tags such
# as <font>, <at> and <@userid> and may do so before markdown, even inside a code span, and
# DingTalk does not list inline code at all; so inside the span the only characters that can
# start a tag or a link are replaced by full-width look-alikes: < > and the "](" of an
# inline link and the "![" of an image. Then the text is inert whether or not the client
# renders the span, and ids, codes, `table=shop_dw.nginx_access` and bucket names, which
# hold none of them, are copied byte for byte.
_MARKDOWN_TAGS = str.maketrans({"<": "＜", ">": "＞"})
_MARKDOWN_LINKS = re.compile(r"\]\(|!\[")
_MARKDOWN_LINK_LOOKALIKES = {"](": "]（", "![": "！["}


def markdown_code(value: Any, limit: int | None = None) -> str:
    """A DingTalk/WeCom markdown code span; see the comment above for the kept characters."""
    body = _span_body(value, limit).translate(_MARKDOWN_TAGS)
    body = _MARKDOWN_LINKS.sub(lambda m: _MARKDOWN_LINK_LOOKALIKES[m.group(0)], body)
    return "`" + body + "`"


def feishu_text(value: Any, limit: int | None = None) -> dict[str, str]:
    """A Feishu/Lark post `text` node: shown literally, tags and markdown are not read
    (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot), so every character
    is kept; `un_escape` is left off so that entities are not decoded either.
    """
    return {"tag": "text", "text": one_line(value, limit)}


def html_text(value: Any, limit: int | None = None) -> str:
    """Text for an HTML part: every character kept, markup characters as entities."""
    return html.escape(one_line(value, limit), quote=True)


# No soft hyphen, <wbr> or zero-width space is ever inserted: they would be copied with the
# id. The code element keeps an id on one line; a message may wrap between words.
_HTML_CODE = (
    '<code style="font-family:Menlo,Consolas,monospace;white-space:nowrap;'
    'word-break:keep-all">{}</code>'
)


def html_code(value: Any, limit: int | None = None) -> str:
    """An id or code in HTML: escaped, in a monospace element that never breaks mid-word."""
    return _HTML_CODE.format(html_text(value, limit))


def plain_text(value: Any, limit: int | None = None) -> str:
    """Plain text (email text part, webhook summaries): only the line rule applies."""
    return one_line(value, limit)


# The names the later wiring registers as Jinja2 filters, one per markup.
FILTERS = {
    "slack_code": slack_code,
    "markdown_code": markdown_code,
    "html_code": html_code,
    "html_text": html_text,
    "plain_text": plain_text,
}
