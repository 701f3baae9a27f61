"""DingTalk custom robot (自定义机器人): one markdown message per check, signed when a
secret is set. Vendor facts are from docs/reference channels.md §1 (official page:
https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages).

- Payload (§1.2): `{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {...}}`;
  `title` is what the notification preview shows, `text` the body. The built-in templates
  put "shipper-alert" in the text, so a robot whose security setting is the custom keyword
  "shipper-alert" accepts every message (§1.4: "the message template, not the
  user-supplied text, should carry the keyword"). A TEMPLATE_DIR override must keep the
  robot's keyword in its text.
- Mentions (§1.3) come only from configuration: DINGTALK_AT_MOBILES fill `at.atMobiles`
  and are also written inline as `@<mobile>` on the last line (the mention only shows
  when the text holds it); DINGTALK_AT_ALL (or "@all" in the list) sets `at.isAtAll`.
  A message that only says "resolved" mentions nobody: nothing needs a person awake.
  When a check needs several messages, only the first (the most urgent findings) mentions.
- Signing (§1.4): `sign = base64(HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"))` with
  `ts` in milliseconds, appended as `&timestamp=<ts>&sign=<sign>`. The signature is made at
  send time, so each attempt carries a fresh timestamp (DingTalk rejects one more than an
  hour old), and handed to requests as `params`, which URL-encodes it exactly once
  (encoding it twice is the "sign not match" bug of §1.4/§1.9).
- Size (§1.6): the request body must be at most 20000 bytes (errcode 460101 otherwise).
  The body is sent as the exact bytes that are measured,
  `json.dumps(payload, ensure_ascii=False).encode()`; `requests`' own `json=` would escape
  CJK as `\\uXXXX` (6 bytes a character instead of 3) and break the measure.
- Success (§1.5): HTTP 200 with `errcode` 0; any other errcode, though HTTP 200, is a
  failure. Retried (§8.2): 130101 and 410100 (rate limit, 20 a minute, §1.6), -1 (system
  busy), plus what `notify.http` retries (transport errors, timeouts, 5xx). Not retried
  (§8.3): 310000 (keyword, signature, timestamp or IP allow-list: the errmsg says which and
  is quoted), 300001/300005 and 400xxx (token, robot or group gone), 460101/101002 (too
  long: a bug in our own fitting, logged as an error), and any code not listed.
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

from shipper_alert.notify.base import DeliveryFailure, Outgoing, fit
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
# §1.6: "body 大小不合法;请保持大小在 20000bytes 以内" / errcode 460101.
MAX_BODY_BYTES = 20000

# A throttled robot (20 messages a minute, 10-minute ban beyond: the page's 消息发送频率限制)
# has no free slot sooner than one message's share, 3 seconds. DingTalk sends no
# Retry-After; its throttle reply may carry `wait` (seconds), honoured when longer, but
# not believed beyond the 10-minute ban.
RATE_LIMIT_RETRY_AFTER = 3.0
MAX_RATE_LIMIT_WAIT = 600.0


def sign(secret: str, timestamp_ms: str) -> str:
    """The raw (not URL-encoded) base64 signature of §1.4."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_body(payload: Any) -> bytes:
    """The request body exactly as sent and as measured against MAX_BODY_BYTES."""
    return encode_json(payload, compact=False)


def body_fits(outgoing: Outgoing) -> bool:
    return len(encode_body(outgoing.payload)) <= MAX_BODY_BYTES


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
        messages = fit(report, render, body_fits)
        first, *rest = messages
        return [first, *(self._outgoing(m.title, self._base_text(m), False) for m in rest)]

    def _mention_line(self) -> str:
        # §1.3: the mention shows only when the text holds "@<mobile>".
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
