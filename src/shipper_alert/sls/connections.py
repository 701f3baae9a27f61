"""SLS requests on kept-alive connections, one bounded exchange at a time.

requests and urllib3 spent about a third of a large check's CPU in their own layers (some
2,600 Python calls a request) on what SLS calls need: a signed GET, PUT or POST to one host.
Here `http11` writes the request on a pooled connection, under the bounds every other
peer gets: the whole exchange within `seconds` (`watchdog.run_within`; the watchdog shuts
the socket down at the deadline), separate connect and read timeouts, a bounded reply head
and the reply cap and codings of `bodies.read_body`. Errors: `ConnectTimeout` (a
`TimeoutError`) for a connection not made in time, `TimeoutError` for a silent peer,
`http11.ProtocolError` for a reply that is not HTTP/1.x, `OSError` for the rest; the client
names each. No proxy, .netrc or other environment setting is read; https verifies the peer
against the CA bundle requests uses (certifi), as the session did.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

from shipper_alert import watchdog
from shipper_alert.sls.http11 import Connection, Disconnected

_Key = tuple[str, str, int]  # scheme, host, port
# What a kept-alive connection the peer has just closed raises before any reply byte.
_STALE = (Disconnected, ConnectionResetError, BrokenPipeError)


class _Stale(Exception):
    """A reused connection failed before its reply began: the peer had closed it."""


class ConnectTimeout(TimeoutError):
    """No connection within the connect timeout."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    import certifi  # noqa: PLC0415 - https only; the bundle requests verifies with

    return ssl.create_default_context(cafile=certifi.where())


class ConnectionPool:
    """Idle kept-alive connections per host, at most `size` each; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._idle: dict[_Key, list[Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def exchange(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]],
        body: bytes | None,
        headers: dict[str, str],
        seconds: float,
        connect_timeout: float,
        read_timeout: float,
        max_bytes: int,
    ) -> Reply:
        """One request and its whole reply within `seconds` (else `ExchangeTimeout`)."""
        parts = urlsplit(url)
        scheme = parts.scheme
        key = (scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{urlencode(params)}" if params else "")
        sent = _headers(key, parts.port, method, headers, body)
        watch = watchdog.Watch()

        def work() -> Reply:
            connection = self._take(key)
            if connection is not None:
                try:
                    return attempt(connection, fresh=False)
                except _Stale as exc:
                    # The peer closed the idle connection as it was taken (its FIN not yet
                    # seen, so `_take` kept it): the request goes once more, on a new one.
                    if watch.cancelled:
                        raise exc.__cause__ from None
            return attempt(Connection(), fresh=True)

        def attempt(connection: Connection, fresh: bool) -> Reply:
            watch.add(connection)  # before connecting: the deadline cuts a TLS handshake too
            try:
                if fresh:
                    _connect(connection, key, min(connect_timeout, seconds))
                connection.sock.settimeout(watchdog.socket_timeout(read_timeout, seconds))
                try:
                    connection.send(method, target, sent, body)
                    status, fields, data, keep = connection.receive(method, max_bytes)
                except _STALE as exc:
                    if fresh:
                        raise
                    raise _Stale from exc
            except BaseException:
                connection.close()
                raise
            if keep and not watch.cancelled:
                self._give(key, connection)
            else:
                connection.close()
            return Reply(status, fields, data)

        return watchdog.run_within(seconds, work, cancel=watch.cancel, what=f"{method} exchange")

    def _take(self, key: _Key) -> Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                connection = idle.pop() if idle else None
            if connection is None:
                return None
            # A kept-alive connection the peer closed (or wrote to unasked) is readable.
            if not select.select([connection.sock], [], [], 0)[0]:
                return connection
            connection.close()

    def _give(self, key: _Key, connection: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self._size:
                idle.append(connection)
                return
        connection.close()


def _headers(
    key: _Key, port: int | None, method: str, headers: dict[str, str], body: bytes | None
) -> dict[str, str]:
    """What goes out with the caller's `headers`: what http.client added unasked (a Host
    of the URL's host and port, never its user:password@)."""
    host = f"[{key[1]}]" if ":" in key[1] else key[1]
    sent = {"Host": f"{host}:{port}" if port else host, "Accept-Encoding": "identity", **headers}
    if body is not None or method in ("POST", "PUT", "PATCH"):
        sent.setdefault("Content-Length", str(len(body or b"")))
    return sent


def _connect(connection: Connection, key: _Key, timeout: float) -> None:
    """Connect `connection` (TCP, and TLS for https) within `timeout` for each step."""
    scheme, host, port = key
    try:
        sock = socket.create_connection((host, port), timeout)
        connection.sock = sock  # the watchdog can shut it down from here on
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
        if scheme == "https":
            connection.sock = _tls().wrap_socket(sock, server_hostname=host)
    except TimeoutError:
        raise ConnectTimeout(f"no connection within {timeout:.2f}s") from None
