"""One HTTP exchange through requests, under the watchdog's deadline and a reply-size cap.

For the chat services, OSS and heartbeats (SLS reads use their own HTTP/1.1 reader:
`sls/connections.py`, `sls/http11.py`). The session's connections register with the
running exchange's `watchdog.Watch`, so at the deadline the watchdog can shut their
sockets down; the body is streamed raw and read by `bodies.read_body` under the peer's cap.
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from shipper_alert.bodies import CHUNK_BYTES, read_body
from shipper_alert.watchdog import Watch, run_within, socket_timeout

_local = threading.local()


class _WatchedPoolMixin:
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_local, "watch", None)
        if watch is not None:
            watch.add(connection)
        return connection


class _WatchedHTTPPool(_WatchedPoolMixin, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPoolMixin, HTTPSConnectionPool):
    pass


class WatchedAdapter(HTTPAdapter):
    """An adapter whose connections the running exchange's watchdog can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


def new_session(pool_size: int = 2, user_agent: str | None = None) -> requests.Session:
    """A pooled session without environment proxies/.netrc and without urllib3 retries."""
    session = requests.Session()
    # No proxies, .netrc or CA bundle from the environment: a .netrc entry would replace
    # an Authorization header, and a proxy would see the traffic.
    session.trust_env = False
    # `read=False` re-raises a read timeout as itself, so it stays a ReadTimeout.
    no_retries = Retry(total=0, read=False, redirect=False, status=0, other=0)
    adapter = WatchedAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=no_retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if user_agent:
        session.headers["User-Agent"] = user_agent
    return session


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    seconds: float,
    max_bytes: int,
    connect_timeout: float = 3.05,
    read_timeout: float | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request and read its whole reply, within `seconds` and `max_bytes`.

    Returns the response with its body read (`.content`, `.json()` work); raises what
    requests raises, `watchdog.ExchangeTimeout`, `bodies.ReplyTooLarge` or
    `bodies.ReplyUndecodable` (none of them a requests exception). `kwargs` go to
    `session.request` (params, data, json).
    """
    watch = Watch()
    merged = {"Accept-Encoding": "identity", **(headers or {})}
    timeout = (min(connect_timeout, seconds), socket_timeout(read_timeout, seconds))

    def work() -> requests.Response:
        _local.watch = watch
        try:
            response = session.request(
                method,
                url,
                headers=merged,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
                **kwargs,
            )
            try:
                body = read_capped(response, max_bytes)
            finally:
                response.close()
            response._content = body
            response._content_consumed = True
            return response
        finally:
            _local.watch = None

    return run_within(seconds, work, cancel=watch.cancel, what=f"{method} exchange")


def read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed `response`, or `ReplyTooLarge` past `max_bytes`."""
    headers = response.headers
    chunks = response.raw.stream(CHUNK_BYTES, decode_content=False)
    return read_body(
        headers.get("Content-Encoding", ""), headers.get("Content-Length", ""), chunks, max_bytes
    )
