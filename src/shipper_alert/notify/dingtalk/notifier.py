"""DingTalk custom robot (自定义机器人): one markdown message per check, signed when a
secret is set, mentions from configuration only.
https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
Payload, signing, size and reply codes: docs/vendors.md, "DingTalk".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from shipper_alert.notify.base import DeliveryFailure, Outgoing, fit, within
from shipper_alert.notify.dingtalk.settings import DingTalkSettings
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
from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView

log = logging.getLogger(__name__)

SERVICE = "dingtalk"
# "body 大小不合法;请保持大小在 20000bytes 以内" / errcode 460101:
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
MAX_BODY_BYTES = 20000

# A throttled robot (20 messages a minute, 10-minute ban beyond: the page's 消息发送频率限制)
# has no free slot sooner than one message's share, 3 seconds. DingTalk sends no
# Retry-After; its throttle reply may carry `wait` (seconds), honoured when longer, but
# not believed beyond the 10-minute ban.
RATE_LIMIT_RETRY_AFTER = 3.0
MAX_RATE_LIMIT_WAIT = 600.0


def sign(secret: str, timestamp_ms: str) -> str:
    """The raw (not URL-encoded) base64 signature the robot checks."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent and as measured against MAX_BODY_BYTES."""
    return encode_json(payload, compact=False)


def body_bytes(outgoing: Outgoing) -> int:
    return len(encode_body(outgoing.payload))


def body_fits(outgoing: Outgoing) -> bool:
    return body_bytes(outgoing) <= MAX_BODY_BYTES


# What to tell the operator for each 310000 cause, found in its errmsg.
_SECURITY_HINTS = (
    (
        "keyword",
        "the robot's custom keyword must appear in the message text "
        "(the built-in templates carry 'shipper-alert')",
    ),
    ("sign", "DINGTALK_SECRET does not match the robot's signing secret"),
    ("timestamp", "this machine's clock is more than an hour off DingTalk's"),
    ("whitelist", "this function's outbound IP is not in the robot's IP allow-list"),
)
_URL_HINT = "check DINGTALK_WEBHOOK_URL: the robot, its token or its group is gone or disabled"


def _security_hint(exchange: Exchange) -> str:
    lowered = exchange.message.lower()
    hint = next((text for key, text in _SECURITY_HINTS if key in lowered), None)
    return hint or "the robot's security settings (keyword, signature or IP) refused it"


def _too_long_hint(exchange: Exchange) -> str:
    return (
        f"BUG in shipper-alert: the body was {exchange.sent_bytes} bytes, fitted to "
        f"{MAX_BODY_BYTES}; please report it"
    )


def _rate_limit_wait(exchange: Exchange) -> float:
    try:
        seconds = float(exchange.reply.get("wait"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return RATE_LIMIT_RETRY_AFTER
    if not 0 < seconds <= MAX_RATE_LIMIT_WAIT:
        return RATE_LIMIT_RETRY_AFTER
    return max(RATE_LIMIT_RETRY_AFTER, seconds)


_RATE_LIMITED = Rule(
    RETRY, "rate limited: at most 20 messages a minute per robot", wait=_rate_limit_wait
)
_TOO_LONG = Rule(PERMANENT, _too_long_hint, bug=True)
_GONE = Rule(PERMANENT, _URL_HINT)
_MODERATED = Rule(PERMANENT, "refused by DingTalk's content check")
# Codes: https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
# (errcode table); 130101/310000/300001/460101 as observed in the wild are cited in
# docs/vendors.md, "DingTalk".
REPLIES = ReplyTable(
    SERVICE,
    code_keys=("errcode",),
    message_keys=("errmsg",),
    rules={
        0: Rule(DELIVERED),
        -1: Rule(RETRY, "DingTalk busy"),
        130101: _RATE_LIMITED,  # legacy rate-limit code
        410100: _RATE_LIMITED,
        310000: Rule(PERMANENT, _security_hint),  # keyword, sign, timestamp or IP list
        300001: _GONE,  # token is not exist
        300005: _GONE,
        400013: _GONE,  # group dissolved
        400101: _GONE,  # token missing
        400102: _GONE,  # robot disabled
        400105: _GONE,  # unsupported msgtype
        400106: _GONE,  # robot missing
        430101: _MODERATED,  # 430101..430104: content moderation
        430102: _MODERATED,
        430103: _MODERATED,
        430104: _MODERATED,
        460101: _TOO_LONG,  # body over 20000 bytes
        101002: _TOO_LONG,
    },
)


def interpret_reply(
    reply: dict[str, Any],
    where: str,
    sent_bytes: int,
    scrub: Callable[[str], str] = SecretScrubber.scrub,
) -> DeliveryFailure | None:
    """None when DingTalk accepted the message, else the classified failure."""
    return classify(REPLIES, reply, where, sent_bytes=sent_bytes, scrub=scrub)


class DingTalkNotifier(HttpNotifier):
    name = SERVICE

    def __init__(
        self,
        settings: DingTalkSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, session=session, clock=clock)
        mobiles = [m for m in settings.at_mobiles if m != "@all"]
        self._at_mobiles = tuple(dict.fromkeys(mobiles))
        self._at_all = settings.at_all or "@all" in settings.at_mobiles

    # -- build (pure) ---------------------------------------------------------------------
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        mention = not report.only_resolved and bool(self._at_mobiles or self._at_all)

        def render(view: MessageView) -> Outgoing:
            title = renderer.render("dingtalk.title.j2", view=view)
            text = renderer.render("dingtalk.text.j2", view=view)
            return self._outgoing(title, text, mention)

        # Every part is fitted with the mentions, so that taking them off the later parts
        # (one ping per check is enough) can only make those smaller.
        messages = fit(report, render, *within(body_bytes, MAX_BODY_BYTES))
        first, *rest = messages
        return [first, *(self._outgoing(m.title, self._base_text(m), False) for m in rest)]

    def _mention_line(self) -> str:
        # The mention shows only when the text holds "@<mobile>".
        return "\n\n" + " ".join(f"@{mobile}" for mobile in self._at_mobiles)

    def _base_text(self, outgoing: Outgoing) -> str:
        line = self._mention_line() if self._at_mobiles else ""
        if line and outgoing.text.endswith(line):
            return outgoing.text[: -len(line)]
        return outgoing.text

    def _outgoing(self, title: str, text: str, mention: bool) -> Outgoing:
        at: dict[str, Any] = {"atMobiles": [], "isAtAll": False}
        if mention:
            at = {"atMobiles": list(self._at_mobiles), "isAtAll": self._at_all}
            if self._at_mobiles:
                text += self._mention_line()
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at}
        return Outgoing(channel=SERVICE, title=title, text=text, payload=payload)

    # -- send (one attempt) ------------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        where = self.where()
        body = encode_body(outgoing.payload)
        params = None
        if self._settings.secret:
            timestamp = str(round(self._clock() * 1000))
            # Raw base64 here: requests URL-encodes params exactly once.
            params = {
                "timestamp": timestamp,
                "sign": sign(self._settings.secret.reveal(), timestamp),
            }
        response = self.post_json(body, timeout, params=params)
        reply = json_body(response, where)
        failure = interpret_reply(reply, where, len(body))
        if failure is not None:
            raise failure
