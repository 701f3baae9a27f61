"""WeCom (企业微信) group robot: one markdown message per check, plus a short text message
carrying the configured mentions. https://developer.work.weixin.qq.com/document/path/91770
Payload, mentions, size and reply codes: docs/vendors.md, "WeCom".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from shipper_alert.notify.base import DeliveryFailure, Outgoing, fit, within
from shipper_alert.notify.http import HttpNotifier, encode_json, json_body
from shipper_alert.notify.replies import (
    DELIVERED,
    PERMANENT,
    RETRY,
    Exchange,
    ReplyTable,
    Rule,
    classify,
)
from shipper_alert.notify.wecom.settings import WeComSettings
from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView, build_view

log = logging.getLogger(__name__)

SERVICE = "wecom"
# https://developer.work.weixin.qq.com/document/path/91770: 4096 bytes, else errcode 40058
MAX_MARKDOWN_BYTES = 4096
MAX_TEXT_BYTES = 2048  # same page, text messages

# 20 messages a minute per robot and no Retry-After: wait for the next whole minute, and
# never less than the 3 seconds that one message in twenty a minute takes.
RATE_LIMIT_MIN_WAIT = 3.0


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent: UTF-8, not `\\uXXXX` escapes."""
    return encode_json(payload, compact=False)


def content_bytes(outgoing: Outgoing) -> int:
    """The size WeCom limits: of `markdown.content` (or `text.content`), in UTF-8 bytes."""
    payload = outgoing.payload
    return len(payload[payload["msgtype"]]["content"].encode("utf-8"))


def markdown_fits(outgoing: Outgoing) -> bool:
    return content_bytes(outgoing) <= MAX_MARKDOWN_BYTES


def truncate_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: limit - len("…".encode())].decode("utf-8", "ignore") + "…"


def _too_long_hint(exchange: Exchange) -> str:
    return (
        f"BUG in shipper-alert: the content was {exchange.sent_bytes} bytes, fitted to "
        f"{MAX_MARKDOWN_BYTES}; please report it"
    )


# Codes: https://developer.work.weixin.qq.com/document/path/90313 (global error codes).
REPLIES = ReplyTable(
    SERVICE,
    code_keys=("errcode",),
    message_keys=("errmsg",),
    rules={
        0: Rule(DELIVERED),
        -1: Rule(RETRY, "WeCom busy"),
        45009: Rule(
            RETRY,
            "rate limited: at most 20 messages a minute per robot",
            wait=lambda exchange: rate_limit_wait(exchange.now),
        ),
        93000: Rule(
            PERMANENT,
            "check WECOM_WEBHOOK_URL: the robot's key is wrong or the robot was removed",
        ),
        40058: Rule(PERMANENT, _too_long_hint, bug=True),  # content over 4096 bytes
    },
)


def interpret_reply(
    reply: dict[str, Any],
    where: str,
    sent_bytes: int,
    scrub: Callable[[str], str] = SecretScrubber.scrub,
    now: float | None = None,
) -> DeliveryFailure | None:
    """None when WeCom accepted the message, else the classified failure."""
    moment = time.time() if now is None else now
    return classify(REPLIES, reply, where, now=moment, sent_bytes=sent_bytes, scrub=scrub)


def rate_limit_wait(now: float) -> float:
    """Seconds to the next whole minute, at least RATE_LIMIT_MIN_WAIT."""
    return max(RATE_LIMIT_MIN_WAIT, 60.0 - now % 60.0)


class WeComNotifier(HttpNotifier):
    name = SERVICE

    def __init__(
        self,
        settings: WeComSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, session=session, clock=clock)
        self._mobiles = tuple(dict.fromkeys(settings.mentioned_mobiles))

    # -- build (pure) ---------------------------------------------------------------------
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        def render(view: MessageView) -> Outgoing:
            title = renderer.render("text.subject.j2", view=view)
            content = renderer.render("wecom.markdown.j2", view=view)
            payload = {"msgtype": "markdown", "markdown": {"content": content}}
            return Outgoing(channel=SERVICE, title=title, text=content, payload=payload)

        messages = fit(report, render, *within(content_bytes, MAX_MARKDOWN_BYTES))
        if self._mobiles and not report.only_resolved:
            messages.append(self._mention(report, renderer))
        return messages

    def _mention(self, report: Report, renderer: Renderer) -> Outgoing:
        view = build_view(report)
        text = renderer.render("wecom.mention.j2", view=view)
        text = truncate_utf8(text, MAX_TEXT_BYTES)
        payload = {
            "msgtype": "text",
            "text": {"content": text, "mentioned_mobile_list": list(self._mobiles)},
        }
        title = renderer.render("text.subject.j2", view=view)
        return Outgoing(channel=SERVICE, title=title, text=text, payload=payload)

    # -- send (one attempt) ------------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        where = self.where()
        response = self.post_json(encode_body(outgoing.payload), timeout)
        reply = json_body(response, where)
        failure = interpret_reply(reply, where, content_bytes(outgoing), now=self._clock())
        if failure is not None:
            raise failure
