"""A loopback stand-in for a Feishu / Lark custom bot, checking what Feishu documents
(https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot).

`POST /open-apis/bot/v2/hook/<token>` (the same path on open.feishu.cn and
open.larksuite.com) is answered with HTTP 200 and Feishu's `{"code": ..., "msg": ...}`
body, checked in this order:
- the token must be the bot's: else 19001 `param invalid: incoming webhook access token
  invalid` (seen in the wild, not documented);
- the body at most `max_body` bytes (20,000 by default): else `oversize_code`,
  9499 by default with the message the vendor gives for it ("请求体大小不能超过 20 K");
  19036 can be chosen instead ();
- a UTF-8 JSON object: else 9499 `Bad Request`;
- with a secret (签名校验): string `timestamp` (seconds) within one hour of the
  stand-in's clock and `sign` equal to base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b"")): else 19021 `sign match fail or timestamp is not within one hour from current
  time`;
- with keywords (自定义关键词), at least one in a `text` or `title` value (not an
  `href`): else 19024 `Key Words Not Found`;
- the message shape: a known `msg_type`; for `post`, `content.post.<locale>` with a
  string `title` and `content` a list of paragraphs, each a list of nodes whose `tag` is
  text (string `text`), a (string `text` and `href`), at (string `user_id`) or img
  (`image_key`); for `text`, string `content.text`; for `interactive`, an object `card`:
  else 9499 `Bad Request`.
Success is `{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg":
"success"}`. `rate_limit_next()` answers the 11232 rate-limit code;
`fail_next(Reply(...))` scripts anything else (HTTP 429 with 99991400, 5xx, ...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn

PATH_PREFIX = "/open-apis/bot/v2/hook/"
MAX_BODY_BYTES = 20_000
SIGNATURE_WINDOW = 3600
DEFAULT_TOKEN = "feishu-test-hook-token"  # noqa: S105 - the stand-in's own made-up token
MSG_TYPES = ("text", "post", "interactive", "image", "share_chat")
NODE_TAGS = {"text": ("text",), "a": ("text", "href"), "at": ("user_id",), "img": ("image_key",)}

OK_BODY = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
RATE_LIMITED_BODY = {"code": 11232, "msg": "frequency limited", "data": {}}
OVERSIZE_MESSAGES = {9499: "请求体大小不能超过 20 K", 19036: "size over limit"}


def _error(code: int, message: str) -> Reply:
    return Reply(200, {"code": code, "msg": message, "data": {}})


def expected_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def post_problem(body: dict[str, Any]) -> str | None:  # noqa: PLR0911 - one per field
    """Why the message's shape is wrong, or None."""
    msg_type = body.get("msg_type")
    if msg_type not in MSG_TYPES:
        return "msg_type"
    if msg_type == "interactive":
        return None if isinstance(body.get("card"), dict) else "card"
    content = body.get("content")
    if not isinstance(content, dict):
        return "content"
    if msg_type == "text":
        return None if isinstance(content.get("text"), str) else "content.text"
    if msg_type != "post":
        return None
    post = content.get("post")
    if not isinstance(post, dict) or not post:
        return "content.post"
    problems = (_locale_problem(f"content.post.{k}", v) for k, v in post.items())
    return next((problem for problem in problems if problem), None)


def _locale_problem(where: str, section: Any) -> str | None:
    if not isinstance(section, dict) or not isinstance(section.get("title", ""), str):
        return f"{where}.title"
    paragraphs = section.get("content")
    if not isinstance(paragraphs, list):
        return f"{where}.content"
    for index, paragraph in enumerate(paragraphs):
        if not isinstance(paragraph, list):
            return f"{where}.content[{index}]"
        for node in paragraph:
            tag = node.get("tag") if isinstance(node, dict) else None
            fields = NODE_TAGS.get(tag) if isinstance(tag, str) else None
            if fields is None or not all(isinstance(node.get(f), str) for f in fields):
                return f"{where}.content[{index}] node {tag!r}"
    return None


def nodes(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a post message, in order."""
    for section in body.get("content", {}).get("post", {}).values():
        for paragraph in section.get("content", []):
            yield from paragraph


def texts(body: dict[str, Any]) -> Iterator[str]:
    """The values a keyword is looked for in (`text` and `title`, not `href`)."""
    content = body.get("content", {})
    if isinstance(content.get("text"), str):
        yield content["text"]
    for section in content.get("post", {}).values():
        yield section.get("title", "")
    for node in nodes(body):
        if isinstance(node.get("text"), str):
            yield node["text"]


class FeishuStandIn(StandIn):
    name = "feishu"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        secret: str | None = None,
        keywords: Sequence[str] = (),
        max_body: int = MAX_BODY_BYTES,
        oversize_code: int = 9499,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self.secret = secret
        self.keywords = tuple(keywords)
        self.max_body = max_body
        self.oversize_code = oversize_code
        self.clock = clock

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{PATH_PREFIX}{self.token}"

    def rate_limit_next(self, times: int = 1) -> None:
        self.fail_next(Reply(200, RATE_LIMITED_BODY), times)

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of the messages the bot accepted."""
        return [request.json for request in self.delivered()]

    def answer(self, request: Received) -> Reply:  # noqa: PLR0911 - one per documented check
        if request.method != "POST" or request.path != PATH_PREFIX + self.token:
            return _error(19001, "param invalid: incoming webhook access token invalid")
        if len(request.body) > self.max_body:
            return _error(self.oversize_code, OVERSIZE_MESSAGES[self.oversize_code])
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(9499, "Bad Request")
        if not isinstance(body, dict):
            return _error(9499, "Bad Request")
        if self.secret is not None and not self._signature_ok(body):
            return _error(
                19021, "sign match fail or timestamp is not within one hour from current time"
            )
        if self.keywords and not any(k in t for t in texts(body) for k in self.keywords):
            return _error(19024, "Key Words Not Found")
        if post_problem(body):
            return _error(9499, "Bad Request")
        return Reply(200, OK_BODY)

    def _signature_ok(self, body: dict[str, Any]) -> bool:
        assert self.secret is not None
        timestamp, signature = body.get("timestamp"), body.get("sign")
        if not isinstance(timestamp, str) or not isinstance(signature, str):
            return False
        if not timestamp.isdigit() or abs(self.clock() - int(timestamp)) > SIGNATURE_WINDOW:
            return False
        return hmac.compare_digest(signature, expected_sign(self.secret, timestamp))
