"""Slack incoming webhook: one Block Kit message per check, with a plain-text fallback.
https://api.slack.com/messaging/webhooks
Limits, counting, escaping and replies: docs/vendors.md, "Slack".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from shipper_alert.notify.base import DeliveryFailure, Outgoing, fit, measured_once
from shipper_alert.notify.http import HttpNotifier, encode_json, excerpt
from shipper_alert.notify.replies import PERMANENT, Rule
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView, section_key

log = logging.getLogger(__name__)

SERVICE = "slack"
MAX_BLOCKS = 50  # https://docs.slack.dev/reference/block-kit/blocks
MAX_SECTION_CHARS = 3000  # same page: "must be less than 3001 characters"
MAX_HEADER_CHARS = 150  # same page
# https://api.slack.com/changelog/2018-04-truncating-really-long-messages
MAX_TEXT_CHARS = 40_000
# Self-imposed, below the ~13,200 characters at which Slack was seen to answer
# msg_blocks_too_long (slackapi/bolt-js#2509); see the module docstring.
MAX_BLOCKS_JSON_CHARS = 12_000
ELLIPSIS = "…"

# Slack answers an error as a plain-text code with a 4xx status (5xx for rollup_error):
# https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
# The status decides retry (notify.http: 429 and 5xx, so rollup_error, are retried); the
# table says what each documented 4xx code means and what the operator should do.
_GONE = "check SLACK_WEBHOOK_URL"
_BUG = Rule(PERMANENT, "BUG in shipper-alert's payload; please report it", bug=True)
REPLIES: dict[str, Rule] = {
    "no_service": Rule(PERMANENT, f"the webhook was removed, disabled or mistyped: {_GONE}"),
    "channel_not_found": Rule(PERMANENT, "the webhook's channel no longer exists"),
    "channel_is_archived": Rule(PERMANENT, "the webhook's channel is archived"),
    "action_prohibited": Rule(PERMANENT, "a workspace admin restricts posting there"),
    "posting_to_general_channel_denied": Rule(PERMANENT, "an admin restricts posting to #general"),
    "invalid_token": Rule(PERMANENT, f"the webhook's token is invalid: {_GONE}"),
    "team_disabled": Rule(PERMANENT, "the Slack workspace is disabled"),
    "invalid_blocks": Rule(
        PERMANENT, "BUG in shipper-alert's Block Kit payload; please report it", bug=True
    ),
    "invalid_payload": _BUG,
    "no_text": _BUG,
}
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")


def slack_length(text: str) -> int:
    """Characters as counted against Slack's limits: UTF-16 code units (see above)."""
    return len(text.encode("utf-16-le")) // 2


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent."""
    return encode_json(payload)


def blocks_length(blocks: list[dict[str, Any]]) -> int:
    """The blocks as serialised JSON, in Slack characters (MAX_BLOCKS_JSON_CHARS)."""
    return slack_length(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")))


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` Slack characters, ending with "…" when it was cut."""
    if slack_length(text) <= limit:
        return text
    end = _longest_prefix(text, limit - slack_length(ELLIPSIS))
    return text[:end].rstrip() + ELLIPSIS


def _longest_prefix(text: str, limit: int) -> int:
    """The largest n with slack_length(text[:n]) <= limit, never inside an entity."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if slack_length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    tail = _ENTITY_TAIL.search(text[:low])
    if tail and low < len(text) and tail.start() > 0:
        # Cutting "&amp;" after "&am" would leave "&am" + "p;" in two sections.
        low = tail.start()
    return low


def _cut_line(line: str, limit: int) -> list[str]:
    pieces = []
    while slack_length(line) > limit:
        end = _longest_prefix(line, limit) or 1
        pieces.append(line[:end])
        line = line[end:]
    pieces.append(line)
    return pieces


def split_sections(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """`text` as section texts of at most `limit` characters, cut at line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line.rstrip(), limit):
            candidate = f"{current}\n{piece}" if current else piece
            if slack_length(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                chunks.append(current)
            current = piece
    if current.strip():
        chunks.append(current)
    return [chunk.strip("\n") for chunk in chunks]


def link_url(url: str) -> str:
    """A URL safe inside mrkdwn's <url|label>: no <, > or | can end it early."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def fits(outgoing: Outgoing, blocks_chars: Callable[[Outgoing], int] | None = None) -> bool:
    """Whether the message keeps every limit of the module docstring."""
    payload = outgoing.payload
    blocks = payload["blocks"]
    if len(blocks) > MAX_BLOCKS or slack_length(payload["text"]) > MAX_TEXT_CHARS:
        return False
    for block in blocks:
        if block["type"] == "section" and slack_length(block["text"]["text"]) > MAX_SECTION_CHARS:
            return False
        if block["type"] == "header" and slack_length(block["text"]["text"]) > MAX_HEADER_CHARS:
            return False
    return (blocks_chars or _blocks_chars)(outgoing) <= MAX_BLOCKS_JSON_CHARS


def usage(outgoing: Outgoing, blocks_chars: Callable[[Outgoing], int] | None = None) -> float:
    """The share of the tightest message-wide limit it takes (guides `fit`'s search);
    section and header lengths are kept by cutting, so they do not grow with the content.
    """
    payload = outgoing.payload
    return max(
        len(payload["blocks"]) / MAX_BLOCKS,
        slack_length(payload["text"]) / MAX_TEXT_CHARS,
        (blocks_chars or _blocks_chars)(outgoing) / MAX_BLOCKS_JSON_CHARS,
    )


def _blocks_chars(outgoing: Outgoing) -> int:
    return blocks_length(outgoing.payload["blocks"])


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no auto-linking of bare URLs, channel names or @mentions in API text;
    # our own <url|label> link still works.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


class SlackNotifier(HttpNotifier):
    name = SERVICE

    # -- build (pure) ---------------------------------------------------------------------
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        sections: dict[tuple, str] = {}  # each distinct shipper section rendered once
        by_part = renderer.is_custom("slack.shipper.j2")  # a custom one may show the part
        cut = lru_cache(maxsize=None)(split_sections)  # and cut into sections once

        def render(view: MessageView) -> Outgoing:
            headline = renderer.render("slack.header.j2", view=view)
            fallback = renderer.render("slack.text.j2", view=view)
            blocks: list[dict[str, Any]] = [
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": shorten(headline, MAX_HEADER_CHARS)},
                },
                {
                    "type": "context",
                    "elements": [
                        _mrkdwn(
                            shorten(renderer.render("slack.intro.j2", view=view), MAX_SECTION_CHARS)
                        )
                    ],
                },
            ]
            causes = renderer.render("slack.causes.j2", view=view)
            blocks.extend(_section(chunk) for chunk in cut(causes))
            texts = [causes]
            for shipper in view.shippers:
                key = section_key(view, shipper, by_part)
                if key not in sections:
                    sections[key] = renderer.render(
                        "slack.shipper.j2",
                        view=view,
                        s=shipper,
                        console_url=link_url(view.console_link(shipper).url),
                        fallback_url=link_url(view.console_link(shipper).fallback),
                    )
                text = sections[key]
                blocks.append({"type": "divider"})
                blocks.extend(_section(chunk) for chunk in cut(text))
                texts.append(text)
            footer = renderer.render("slack.footer.j2", view=view)
            if footer:
                blocks.append({"type": "divider"})
                blocks.extend(_section(chunk) for chunk in cut(footer))
                texts.append(footer)
            payload = {"text": shorten(fallback, MAX_TEXT_CHARS), "blocks": blocks}
            body = "\n\n".join([fallback, *texts])
            return Outgoing(channel=SERVICE, title=headline, text=body, payload=payload)

        chars = measured_once(_blocks_chars)  # fits and usage both measure each message
        return fit(report, render, lambda o: fits(o, chars), lambda o: usage(o, chars))

    # -- send (one attempt) ----------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        try:
            response = self.post_json(encode_body(outgoing.payload), timeout)
        except DeliveryFailure as failure:
            raise _explained(failure) from None
        text = response.content.decode("utf-8", "replace").strip()
        if response.status_code == 200 and text == "ok":
            return
        raise DeliveryFailure(
            f"{self.where()}: HTTP {response.status_code} without Slack's 'ok': {excerpt(text)}",
            retryable=True,
        )


def _explained(failure: DeliveryFailure) -> DeliveryFailure:
    """`failure` with what the operator should do about Slack's error code, if known."""
    code = (failure.body or "").strip()  # Slack answers errors as a plain-text code
    rule = REPLIES.get(code)
    if rule is None:
        return failure
    if rule.bug:
        log.error("slack rejected shipper-alert's payload (%s); please report this", code)
    return DeliveryFailure(
        f"{failure.detail} ({rule.hint})",
        retryable=failure.retryable,
        retry_after=failure.retry_after,
        status=failure.status,
        body=failure.body,
    )
