"""A loopback stand-in for a generic webhook receiver: it records JSON bodies.

The receiver follows the Alertmanager `webhook_config` convention (docs/webhook.md).

`POST <path>` is answered like a typical receiver behind a reverse proxy:
- another path or method: 404 `not found`;
- a body over `max_body` bytes (1,000,000 by default, the limit docs/webhook.md promises):
  413 `payload too large`, the answer of nginx's client_max_body_size;
- not `application/json`, not UTF-8 JSON, or not an object: 400;
- else `status` (200 by default; 202 or 204 make other 2xx) with `{"received": true}`.
`fail_next(Reply(...))` scripts failures (500, 503, 429 with Retry-After, 401, a dropped
connection, a slow answer), which the notifier must classify (2xx success, 5xx and
429 retried, other 4xx not).
"""

from __future__ import annotations

import json
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn

MAX_BODY_BYTES = 1_000_000


class WebhookStandIn(StandIn):
    name = "webhook"

    def __init__(
        self,
        path: str = "/hooks/shipper-alert/webhook-test-token",
        *,
        max_body: int = MAX_BODY_BYTES,
        status: int = 200,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.path = path
        self.max_body = max_body
        self.status = status

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.path}"

    def documents(self) -> list[dict[str, Any]]:
        """The JSON bodies the receiver accepted, in order."""
        return [request.json for request in self.delivered()]

    def answer(self, request: Received) -> Reply:  # noqa: PLR0911 - one per documented check
        if request.method != "POST" or request.path != self.path:
            return Reply(404, "not found")
        if len(request.body) > self.max_body:
            return Reply(413, "payload too large")
        if "application/json" not in request.headers.get("content-type", ""):
            return Reply(400, "expected application/json")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Reply(400, "body is not UTF-8 JSON")
        if not isinstance(body, dict):
            return Reply(400, "body is not a JSON object")
        if self.status == 204:
            return Reply(204, b"")
        return Reply(self.status, {"received": True})
