"""The SLS simulator's HTTP side: a threading HTTP/1.1 server bound to loopback only, with
keep-alive, bounded bodies (plain or chunked) and connections `stop()` can close.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.responses import error_response, new_request_id

logger = logging.getLogger("shipper_alert_dev.sim.server")

MAX_BODY_BYTES = 10 * 1024 * 1024  # PostBodyTooLarge
IDLE_CONNECTION_TIMEOUT = 30.0


def loopback_address(host: str) -> tuple[str, socket.AddressFamily]:
    """The address to bind for `host` and its family; only loopback addresses pass."""
    candidate = host.strip()
    if candidate.lower() == "localhost":
        candidate = "127.0.0.1"
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the SLS simulator only listens on a loopback address (127.0.0.1, ::1 or "
            f"localhost), not {host!r}"
        )
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return str(address), family


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], family: socket.AddressFamily, simulator: Any
    ) -> None:
        self.address_family = family
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._threads_started: list[threading.Thread] = []
        self._connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn); not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Daemon threads, so that a simulator somebody forgot to stop never holds up the
        # interpreter's exit; tracked here, because ThreadingMixIn only joins non-daemon ones.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"sls-sim-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections.add(request)
            self._threads_started = [t for t in self._threads_started if t.is_alive()]
            self._threads_started.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 10.0) -> None:
        """Wake every handler still waiting on a kept-alive connection, and wait for it."""
        with self._connections_lock:
            connections = list(self._connections)
            threads = list(self._threads_started)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away; nothing to report
            return
        logger.exception("SLS simulator: error while serving %s", client_address)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sls-simulator"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT
    # Headers and body go out in separate writes; without TCP_NODELAY the second one waits
    # for the client's delayed ACK (about 40 ms a response).
    disable_nagle_algorithm = True
    server: HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers = dict(self.headers.items())
        response = self.server.simulator.handle(self.command, self.path, headers, body)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length", "0") or "0"
        if not length_header.isdigit():
            self._refuse(400, "ParameterInvalid", "Content-Length is invalid.")
            return None
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            self._refuse(413, "PostBodyTooLarge", "body size exceeds 10 MB.")
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self._refuse(400, "ParameterInvalid", "the chunked body is malformed.")
                return None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._refuse(413, "PostBodyTooLarge", "body size exceeds 10 MB.")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _refuse(self, status: int, code: str, message: str) -> None:
        response = error_response(ApiError(status, code, message))
        self.close_connection = True
        self.send_response(status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-log-requestid", new_request_id())
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("SLS simulator %s: " + format, self.address_string(), *args)
