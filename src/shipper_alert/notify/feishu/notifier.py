"""Feishu / Lark custom bot (自定义机器人): one rich-text `post` message of literal text
nodes per check, signed when FEISHU_SECRET is set.
https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
Payload, signing, size and reply codes: docs/vendors.md, "Feishu / Lark".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

from shipper_alert.notify.base import DeliveryFailure, Outgoing, fit, within
from shipper_alert.notify.http import HttpNotifier, encode_json, json_body, retry_after_seconds
from shipper_alert.notify.replies import (
    DELIVERED,
    PERMANENT,
    RETRY,
    Exchange,
    ReplyTable,
    Rule,
    classify,
)
from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView, section_key

log = logging.getLogger(__name__)

SERVICE = "feishu"
# "request body ≤ 20 KB", read as 20,000 bytes:
# https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
MAX_BODY_BYTES = 20_000
LOCALE = "zh_cn"
# Same lengths as a real timestamp (seconds, 10 digits until 2286) and signature (base64
# of 32 bytes), so that the size `fits` measures is the size sent.
PLACEHOLDER_TIMESTAMP = "0" * 10
PLACEHOLDER_SIGN = "=" * 44

# A reset further away than this is not believed; the delivery's back-off applies.
MAX_RESET_WAIT = 60.0
RESET_HEADER = "x-ogw-ratelimit-reset"


def sign(secret: str, timestamp: str) -> str:
    """The bot's signature: HMAC-SHA256 keyed by f"{timestamp}\\n{secret}" over nothing."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def signed(payload: Mapping[str, Any], timestamp: str, signature: str) -> dict[str, Any]:
    return {"timestamp": timestamp, "sign": signature, **payload}


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent and as measured against MAX_BODY_BYTES."""
    return encode_json(payload)


def text_node(text: str, *, bold: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"tag": "text", "text": text}
    if bold:
        node["style"] = ["bold"]
    return node


def paragraphs(text: str) -> list[list[dict[str, Any]]]:
    """One paragraph with one literal text node per non-blank line of `text`."""
    return [[text_node(line.rstrip())] for line in text.split("\n") if line.strip()]


def _reset_wait_of(exchange: Exchange) -> float | None:
    return _reset_wait(exchange.headers)


_RATE_LIMITED = Rule(
    RETRY, "rate limited: at most 5 messages a second, 100 a minute per bot", wait=_reset_wait_of
)
_BUG = Rule(
    PERMANENT,
    f"BUG in shipper-alert: bad request or body over {MAX_BODY_BYTES} bytes; please report it",
    bug=True,
)
# Codes: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (error codes);
# the legacy `StatusCode`/`StatusMessage` fields are read when `code` is missing.
REPLIES = ReplyTable(
    SERVICE,
    code_keys=("code", "StatusCode"),
    message_keys=("msg", "StatusMessage"),
    rules={
        0: Rule(DELIVERED),
        11232: _RATE_LIMITED,  # "system pressure"
        99991400: _RATE_LIMITED,  # OpenAPI frequency limit
        19021: Rule(
            PERMANENT,
            "FEISHU_SECRET does not match the bot's signing secret, or this "
            "machine's clock is more than an hour off",
        ),
        19022: Rule(PERMANENT, "this function's outbound IP is not in the bot's IP allow-list"),
        19024: Rule(
            PERMANENT,
            "the bot's custom keyword must appear in the message "
            "(the built-in title carries 'shipper-alert')",
        ),
        9499: _BUG,  # bad request, also "request body over 20 K"
        19036: _BUG,  # body too large
    },
)


def interpret_reply(
    reply: dict[str, Any],
    where: str,
    headers: Mapping[str, str] | None = None,
    scrub: Callable[[str], str] = SecretScrubber.scrub,
) -> DeliveryFailure | None:
    """None when Feishu accepted the message, else the classified failure."""
    return classify(REPLIES, reply, where, headers=headers, scrub=scrub)


def _reset_wait(headers: Mapping[str, str]) -> float | None:
    seconds = retry_after_seconds(headers.get(RESET_HEADER))
    if seconds is None or seconds > MAX_RESET_WAIT:
        return None
    return seconds


class FeishuNotifier(HttpNotifier):
    name = SERVICE

    # -- build (pure) ---------------------------------------------------------------------
    def fits(self, outgoing: Outgoing) -> bool:
        """Whether the body, as it will be sent (signature fields included), fits."""
        return self._sent_bytes(outgoing) <= MAX_BODY_BYTES

    def _sent_bytes(self, outgoing: Outgoing) -> int:
        payload = outgoing.payload
        if self._settings.secret:
            payload = signed(payload, PLACEHOLDER_TIMESTAMP, PLACEHOLDER_SIGN)
        return len(encode_body(payload))

    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        sections: dict[tuple, str] = {}  # each distinct shipper section rendered once
        by_part = renderer.is_custom("feishu.shipper.j2")  # a custom one may show the part

        def render(view: MessageView) -> Outgoing:
            title = renderer.render("feishu.title.j2", view=view)
            intro = renderer.render("feishu.intro.j2", view=view)
            content = paragraphs(intro)
            texts = [title, intro]
            for shipper in view.shippers:
                key = section_key(view, shipper, by_part)
                if key not in sections:
                    sections[key] = renderer.render("feishu.shipper.j2", view=view, s=shipper)
                text = sections[key]
                heading, _, rest = text.partition("\n")
                link = view.console_link(shipper)
                links = [{"tag": "a", "text": "SLS console", "href": link.url}]
                if link.fallback != link.url:
                    fallback = {"tag": "a", "text": "logstore", "href": link.fallback}
                    links += [text_node(" · "), fallback]
                content.append([text_node(heading.strip(), bold=True), text_node("  "), *links])
                content.extend(paragraphs(rest))
                texts.append(text)
            footer = renderer.render("feishu.footer.j2", view=view)
            content.extend(paragraphs(footer))
            texts.append(footer)
            payload = {
                "msg_type": "post",
                "content": {"post": {LOCALE: {"title": title, "content": content}}},
            }
            body = "\n\n".join(t for t in texts if t)
            return Outgoing(channel=SERVICE, title=title, text=body, payload=payload)

        return fit(report, render, *within(self._sent_bytes, MAX_BODY_BYTES))

    # -- send (one attempt) ----------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        where = self.where()
        payload = outgoing.payload
        if self._settings.secret:
            timestamp = str(int(self._clock()))
            payload = signed(payload, timestamp, sign(self._settings.secret.reveal(), timestamp))
        response = self.post_json(
            encode_body(payload),
            timeout,
            # Feishu's OpenAPI gateway says when its window resets in its own header.
            rate_limit_headers=("Retry-After", RESET_HEADER),
        )
        reply = json_body(response, where)
        failure = interpret_reply(reply, where, response.headers)
        if failure is not None:
            raise failure
