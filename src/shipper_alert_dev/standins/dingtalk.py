"""A loopback stand-in for the DingTalk custom robot, checking what DingTalk documents
(https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages).

`POST /robot/send?access_token=<token>[&timestamp=<ms>&sign=<sig>]` is answered with HTTP
200 and DingTalk's `{"errcode": ..., "errmsg": ...}` body, checked in this order:
- `access_token` must be the robot's: else 300001 `token is not exist`;
- with a secret (加签): `timestamp` in milliseconds within one hour of the stand-in's
  clock, else 310000 `invalid timestamp`; `sign` (URL-decoded once, as the query string
  is) equal to base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), else 310000
  `sign not match`. A signature encoded twice arrives as `...%2B...` and does not match;
- the body at most 20000 bytes, else 460101 `message too long, exceed 20000 bytes`;
- a JSON body sent as `application/json`, else 40035 `缺少参数 json` (DingTalk's reply to a
  body it cannot read; seen in the wild, not documented);
- a known `msgtype`, else 400105 `不支持的消息类型`; for `markdown`, non-empty string
  `markdown.title` and `markdown.text`; for `text`, `text.content`; `at.atMobiles` a list
  of strings and `at.isAtAll` a boolean when present (else 40035 naming the field);
- with keywords (自定义关键词), at least one in the text, else 310000
  `keywords not in content`. Whether DingTalk also looks at `markdown.title` is not
  documented, so the stand-in does not: the keyword must be in the text.
`rate_limit_next()` makes the next request(s) get the 130101 reply observed in the wild
(docs/vendors.md, "DingTalk"); `fail_next(Reply(...))` scripts anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn, off_route

PATH = "/robot/send"
DEFAULT_TOKEN = "dingtalk-test-token"  # noqa: S105 - the stand-in's own made-up token
MAX_BODY_BYTES = 20000
SIGNATURE_WINDOW_MS = 3600 * 1000
MSGTYPES = ("text", "markdown", "link", "actionCard", "feedCard")

OK_BODY = {"errcode": 0, "errmsg": "ok"}
# Observed: the throttle reply carries a `wait` and DingTalk's rate-limit errcode.
RATE_LIMITED_BODY = {
    "status": 1111,
    "wait": 5,
    "source": "x5",
    "punish": "deny",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "errcode": 130101,
    "errmsg": "send too fast, exceed 20 times per minute",
}


def _error(code: int, message: str) -> Reply:
    return Reply(200, {"errcode": code, "errmsg": message}, accepted=False)


def expected_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkStandIn(StandIn):
    name = "dingtalk"

    def __init__(
        self,
        access_token: str = DEFAULT_TOKEN,
        *,
        secret: str | None = None,
        keywords: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.access_token = access_token
        self.secret = secret
        self.keywords = tuple(keywords)
        self.clock = clock

    @property
    def webhook_url(self) -> str:
        """The URL as DingTalk shows it for this robot."""
        return f"{self.url}{PATH}?access_token={self.access_token}"

    def rate_limit_next(self, times: int = 1) -> None:
        self.fail_next(Reply(200, RATE_LIMITED_BODY, accepted=False), times)

    def answer(self, request: Received) -> Reply:  # noqa: PLR0911 - one per documented check
        refused = off_route(request, PATH)
        if refused is not None:
            return refused
        if request.query.get("access_token") != [self.access_token]:
            return _error(300001, "token is not exist")
        if self.secret is not None:
            refused = self._check_signature(request)
            if refused:
                return refused
        if len(request.body) > MAX_BODY_BYTES:
            return _error(460101, f"message too long, exceed {MAX_BODY_BYTES} bytes")
        if "application/json" not in request.headers.get("content-type", ""):
            return _error(40035, "缺少参数 json")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(40035, "缺少参数 json")
        if not isinstance(body, dict) or body.get("msgtype") not in MSGTYPES:
            return _error(400105, "不支持的消息类型")
        problem = _shape_problem(body)
        if problem:
            return _error(40035, f"缺少参数 {problem}")
        if self.keywords and not any(k in _content(body) for k in self.keywords):
            return _error(310000, "keywords not in content")
        return Reply(200, OK_BODY)

    def _check_signature(self, request: Received) -> Reply | None:
        assert self.secret is not None
        timestamps = request.query.get("timestamp", [])
        signs = request.query.get("sign", [])
        if len(timestamps) != 1 or len(signs) != 1:
            return _error(310000, "sign not match")
        timestamp = timestamps[0]
        if not timestamp.isdigit():
            return _error(310000, "invalid timestamp")
        if abs(self.clock() * 1000 - int(timestamp)) > SIGNATURE_WINDOW_MS:
            return _error(310000, "invalid timestamp")
        if not hmac.compare_digest(signs[0], expected_sign(self.secret, timestamp)):
            return _error(310000, "sign not match")
        return None


def _shape_problem(body: dict[str, Any]) -> str | None:  # noqa: PLR0911 - one per field
    """The first required field that is missing or of the wrong type, or None."""
    msgtype = body["msgtype"]
    section = body.get(msgtype)
    if not isinstance(section, dict):
        return msgtype
    required = {"markdown": ("title", "text"), "text": ("content",)}.get(msgtype, ())
    for field in required:
        value = section.get(field)
        if not isinstance(value, str) or not value.strip():
            return f"{msgtype}.{field}"
    at = body.get("at")
    if at is None:
        return None
    if not isinstance(at, dict):
        return "at"
    mobiles = at.get("atMobiles", [])
    if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
        return "at.atMobiles"
    if not isinstance(at.get("isAtAll", False), bool):
        return "at.isAtAll"
    return None


def _content(body: dict[str, Any]) -> str:
    section = body.get(body["msgtype"], {})
    return str(section.get("text") or section.get("content") or "")
