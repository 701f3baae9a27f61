"""A loopback HTTP server standing in for a chat service, for tests and the demo.

Each service's stand-in subclasses `StandIn` and implements `answer(request)`, checking the
request the way the vendor documents (signature, body shape, size) and replying with the
vendor's documented success or error body. Tests read `received` (what arrived, parsed)
and script failures with `fail_next(...)`, which are served before `answer` is asked.
Only loopback addresses are ever bound.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow service)
    drop: bool = False  # close the connection without answering
    # Whether the service took the message; None means "any 2xx". Services that reject
    # with HTTP 200 and an error body (DingTalk, WeCom, Feishu) set it explicitly.
    accepted: bool | None = None

    @property
    def took_message(self) -> bool:
        return (200 <= self.status < 300) if self.accepted is None else self.accepted

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body, ensure_ascii=False).encode("utf-8"), "application/json"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


def off_route(request: Received, path: str) -> Reply | None:
    """A robot endpoint's answer to anything but a POST to its path; None for that POST."""
    if request.method != "POST":
        return Reply(405, "method not allowed")
    if request.path != path:
        return Reply(404, "not found")
    return None


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"stand-ins bind loopback addresses only, not {host!r}")


class StandIn:
    """Base class: a threaded HTTP/1.1 server on loopback; subclasses implement `answer`."""

    name = "service"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        _require_loopback(host)
        self.host = host
        self.received: list[Received] = []
        self._scripted: deque[Reply] = deque()
        self._accepted: list[bool] = []  # per received request: answered with success
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = port

    # -- what a subclass provides -------------------------------------------------------
    def answer(self, request: Received) -> Reply:
        """The service's reply to a request that no scripted failure took."""
        raise NotImplementedError

    # -- test controls ------------------------------------------------------------------
    def fail_next(self, reply: Reply, times: int = 1) -> None:
        """Serve `reply` to the next `times` requests instead of answering normally."""
        with self._lock:
            self._scripted.extend([reply] * times)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.name} stand-in is not started")
        return self._server.server_address[1]

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=parsed.path,
                    query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_at=time.time(),
                )
                with standin._lock:
                    scripted = standin._scripted.popleft() if standin._scripted else None
                reply = scripted or standin.answer(request)
                with standin._lock:
                    standin.received.append(request)
                    standin._accepted.append(scripted is None and reply.took_message)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle

        server_class = ThreadingHTTPServer
        if ":" in self.host:

            class V6Server(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            server_class = V6Server
        self._server = server_class((self.host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"standin-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def delivered(self) -> list[Received]:
        """Requests the service took (see `Reply.accepted`), scripted failures excluded."""
        with self._lock:
            return [r for r, ok in zip(self.received, self._accepted, strict=True) if ok]

    def messages(self) -> list[Any]:
        """The JSON bodies of the messages the service took."""
        return [request.json for request in self.delivered()]
