"""A loopback dead-man's switch: counts the GET pings of HEARTBEAT_URL.

Like Healthchecks.io's ping URL (https://healthchecks.io/docs/http_api/), the check's
token is the last path segment and a ping is any GET of it, answered `200 OK`; any other
path is 404.
"""

from __future__ import annotations

from shipper_alert_dev.standins.base import Received, Reply, StandIn

DEFAULT_TOKEN = "0f6e4c1e-heartbeat-token"  # noqa: S105 - a stand-in's made-up token


class HeartbeatStandIn(StandIn):
    name = "heartbeat"

    def __init__(self, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.token = token

    @property
    def ping_url(self) -> str:
        return f"{self.url}/ping/{self.token}"

    @property
    def pings(self) -> int:
        return len(self.delivered())

    def answer(self, request: Received) -> Reply:
        if request.method == "GET" and request.path == f"/ping/{self.token}":
            return Reply(200, "OK")
        return Reply(404, "not found", accepted=False)
