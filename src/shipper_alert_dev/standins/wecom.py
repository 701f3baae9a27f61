"""A loopback stand-in for the WeCom group robot, checking what WeCom documents
(https://developer.work.weixin.qq.com/document/path/91770).

`POST /cgi-bin/webhook/send?key=<key>` is answered with HTTP 200 and WeCom's
`{"errcode": ..., "errmsg": ...}` body, checked in this order:
- `key` must be the robot's: else 93000 `invalid webhook url, hint: [...]`;
- a JSON object body, else 40035 `invalid args` (WeCom's wording for a body it cannot
  read is not documented);
- `msgtype` `markdown` or `text` (the types this product sends; others get 40008
  `invalid message type`, WeCom's global code for it);
- `markdown.content` / `text.content` a non-empty string, else 44004 `empty content`
  (not documented for certain);
- `markdown.content` at most 4096 bytes and `text.content` at most 2048 bytes of UTF-8
 , else 40058 `... exceed max length ...`;
- `text.mentioned_mobile_list` / `mentioned_list` lists of strings when present.
`rate_limit_next()` makes the next request(s) get 45009 `api freq out of limit`;
`fail_next(Reply(...))` scripts anything else.
"""

from __future__ import annotations

import json

from shipper_alert_dev.standins.base import Received, Reply, StandIn, off_route

PATH = "/cgi-bin/webhook/send"
MAX_CONTENT_BYTES = {"markdown": 4096, "text": 2048}
OK_BODY = {"errcode": 0, "errmsg": "ok"}
_MORE = ", more info at https://open.work.weixin.qq.com/devtool/query?e={code}"


def _error(code: int, message: str) -> Reply:
    return Reply(
        200, {"errcode": code, "errmsg": message + _MORE.format(code=code)}, accepted=False
    )


RATE_LIMITED = _error(45009, "api freq out of limit")


class WeComStandIn(StandIn):
    name = "wecom"

    def __init__(
        self, key: str = "wecom-test-key", *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host, port)
        self.key = key

    @property
    def webhook_url(self) -> str:
        """The URL as WeCom shows it for this robot."""
        return f"{self.url}{PATH}?key={self.key}"

    def rate_limit_next(self, times: int = 1) -> None:
        self.fail_next(RATE_LIMITED, times)

    def answer(self, request: Received) -> Reply:  # noqa: PLR0911 - one per documented check
        refused = off_route(request, PATH)
        if refused is not None:
            return refused
        if request.query.get("key") != [self.key]:
            return _error(93000, "invalid webhook url, hint: [standin]")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(40035, "invalid args")
        if not isinstance(body, dict):
            return _error(40035, "invalid args")
        msgtype = body.get("msgtype")
        if msgtype not in MAX_CONTENT_BYTES:
            return _error(40008, "invalid message type")
        section = body.get(msgtype)
        content = section.get("content") if isinstance(section, dict) else None
        if not isinstance(content, str) or not content.strip():
            return _error(44004, "empty content")
        limit = MAX_CONTENT_BYTES[msgtype]
        if len(content.encode("utf-8")) > limit:
            return _error(
                40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter"
            )
        for field in ("mentioned_list", "mentioned_mobile_list"):
            value = section.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _error(40035, f"invalid args: {msgtype}.{field}")
        return Reply(200, OK_BODY)
