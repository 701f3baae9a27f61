"""A loopback stand-in for a Slack incoming webhook, checking what Slack documents
(https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).

`POST /services/<T>/<B>/<token>` is answered the way Slack answers webhooks: HTTP
200 with the plain-text body `ok`, or a 4xx with a plain-text error code, checked in this
order:
- the path must be the webhook's: else 404 `no_service`;
- a UTF-8 JSON object sent as `application/json`: else 400 `invalid_payload`;
- `text`, `blocks` or `attachments` present: else 400 `no_text`;
- the blocks (https://docs.slack.dev/reference/block-kit/blocks): at most 50; each
  of a known type; a `header` holding `plain_text` of 1 to 150 characters; a `section`
  holding a text object (`plain_text` or `mrkdwn`) of 1 to 3000 characters; a `context`
  of 1 to 10 text elements of at most 3000 characters; else 400 `invalid_blocks`;
- the blocks as serialised JSON at most `max_blocks_chars` characters (default 13,200,
  where Slack was seen to refuse them, slackapi/bolt-js#2509): else 400
  `msg_blocks_too_long` (a documented chat.postMessage error; its threshold is not).
Characters are counted as UTF-16 code units, like `notify.slack.slack_length`, and as
received (`&amp;` is 5). `measure(payload)` reports the same numbers, for tests that
assert a message fits "as the stand-in measures it". The top-level `text` is not refused
when long: Slack truncates it at 40,000 characters; `measure` reports its length.
`rate_limit_next(retry_after)` answers 429 with a Retry-After header (https://api.slack.com/docs/rate-limits);
`fail_next(Reply(...))` scripts anything else (500 `rollup_error`, 404 `channel_not_found`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_CONTEXT_ELEMENTS = 10
OBSERVED_MAX_BLOCKS_CHARS = 13_200
BLOCK_TYPES = (
    "header",
    "section",
    "divider",
    "context",
    "actions",
    "image",
    "rich_text",
    "markdown",
)
TEXT_TYPES = ("plain_text", "mrkdwn")


def slack_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Measure:
    """A message as the stand-in measures it against Slack's limits."""

    blocks: int
    longest_section: int
    header: int
    blocks_chars: int
    text_chars: int


def measure(payload: dict[str, Any]) -> Measure:
    blocks = payload.get("blocks") or []
    sections = [slack_length(b["text"]["text"]) for b in blocks if b.get("type") == "section"]
    headers = [slack_length(b["text"]["text"]) for b in blocks if b.get("type") == "header"]
    return Measure(
        blocks=len(blocks),
        longest_section=max(sections, default=0),
        header=max(headers, default=0),
        blocks_chars=slack_length(json.dumps(blocks, ensure_ascii=False, separators=(",", ":"))),
        text_chars=slack_length(payload.get("text") or ""),
    )


def _text_problem(obj: Any, where: str, limit: int, types: tuple[str, ...]) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return f"{where}: a text object of type {'/'.join(types)} is required"
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return f"{where}: text must be a non-empty string"
    if slack_length(text) > limit:
        return f"{where}: must be less than {limit + 1} characters"
    return None


def blocks_problem(blocks: Any) -> str | None:
    """Why Slack would refuse `blocks` with invalid_blocks, or None."""
    if not isinstance(blocks, list):
        return "blocks must be an array"
    if len(blocks) > MAX_BLOCKS:
        return f"no more than {MAX_BLOCKS} items allowed"
    for index, block in enumerate(blocks):
        where = f"[{index}]"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            return f"{where}: unknown block type"
        kind = block["type"]
        problem = None
        if kind == "header":
            problem = _text_problem(block.get("text"), where, MAX_HEADER_CHARS, ("plain_text",))
        elif kind == "section":
            if "text" in block or "fields" not in block:
                problem = _text_problem(block.get("text"), where, MAX_SECTION_CHARS, TEXT_TYPES)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                problem = f"{where}: context needs 1 to {MAX_CONTEXT_ELEMENTS} elements"
            else:
                for element in elements:
                    problem = problem or _text_problem(
                        element, where, MAX_SECTION_CHARS, TEXT_TYPES
                    )
        if problem:
            return problem
    return None


class SlackStandIn(StandIn):
    name = "slack"

    def __init__(
        self,
        path: str = "/services/T0000TEST/B0000TEST/slack-test-token",
        *,
        max_blocks_chars: int = OBSERVED_MAX_BLOCKS_CHARS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.path = path
        self.max_blocks_chars = max_blocks_chars
        self.refusals: list[str] = []  # why each refused request was refused

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.path}"

    def rate_limit_next(self, retry_after: int = 1, times: int = 1) -> None:
        self.fail_next(Reply(429, "rate_limited", {"Retry-After": str(retry_after)}), times)

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of the messages Slack accepted."""
        return [request.json for request in self.delivered()]

    def _refuse(self, status: int, code: str, why: str) -> Reply:
        self.refusals.append(f"{code}: {why}")
        return Reply(status, code)

    def answer(self, request: Received) -> Reply:  # noqa: PLR0911 - one per documented check
        if request.method != "POST" or request.path != self.path:
            return self._refuse(404, "no_service", f"{request.method} {request.path}")
        if "application/json" not in request.headers.get("content-type", ""):
            return self._refuse(400, "invalid_payload", "not application/json")
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._refuse(400, "invalid_payload", "not UTF-8 JSON")
        if not isinstance(payload, dict):
            return self._refuse(400, "invalid_payload", "not a JSON object")
        if not (payload.get("text") or payload.get("blocks") or payload.get("attachments")):
            return self._refuse(400, "no_text", "no text, blocks or attachments")
        if "blocks" in payload:
            problem = blocks_problem(payload["blocks"])
            if problem:
                return self._refuse(400, "invalid_blocks", problem)
            size = measure(payload).blocks_chars
            if size > self.max_blocks_chars:
                return self._refuse(400, "msg_blocks_too_long", f"{size} characters of blocks")
        return Reply(200, "ok", {"Content-Type": "text/html"})
