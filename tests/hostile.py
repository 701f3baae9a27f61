"""A loopback HTTP server that misbehaves on purpose, for the hardening tests.

`HostileServer(behaviour)` accepts connections on 127.0.0.1; for each request it reads the
head and body, records them in `received`, and hands the socket to `behaviour(sock,
request)`, which writes whatever a broken or hostile peer would.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Request:
    head: bytes
    body: bytes

    @property
    def path(self) -> str:
        return self.head.split(b" ", 2)[1].decode("latin-1")


Behaviour = Callable[[socket.socket, Request], None]


class Listener:
    """A loopback TCP listener serving each connection in a thread with `_serve(sock)`."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        raise NotImplementedError


class HostileServer(Listener):
    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__()
        self.behaviour = behaviour
        self.received: list[Request] = []
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError), sock:
            data = b""
            while not self.stopped.is_set():
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(data) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                body, data = data[:length], data[length:]
                request = Request(head, body)
                self.received.append(request)
                self.behaviour(sock, request)


def response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def reply(body: bytes | object, status: int = 200, **headers: str) -> Behaviour:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    def behave(sock: socket.socket, request: Request) -> None:
        sock.sendall(response(data, status, {"Content-Type": "application/json", **headers}))

    return behave


def trickle(data: bytes, interval: float = 0.2) -> Behaviour:
    """Send `data` one byte at a time, `interval` seconds apart (forever, if it is long)."""

    def behave(sock: socket.socket, request: Request) -> None:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(interval)

    return behave


def silent(server_stopped: threading.Event | None = None) -> Behaviour:
    """Accept the request and never answer."""

    def behave(sock: socket.socket, request: Request) -> None:
        (server_stopped or threading.Event()).wait(60)

    return behave


@functools.lru_cache(maxsize=4)
def _bomb(size: int, coding: str) -> bytes:
    """`{"a":"000..."}` of `size` zeros compressed, built in 1 MB steps (never held whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if coding == "gzip" else 15)
    parts = [packer.compress(b'{"a":"')]
    block = b"0" * (1 << 20)
    for _ in range(size >> 20):
        parts.append(packer.compress(block))
    parts.append(packer.compress(b"0" * (size & ((1 << 20) - 1)) + b'"}'))
    parts.append(packer.flush())
    return b"".join(parts)


def compressed_bomb(size: int, coding: str = "gzip") -> Behaviour:
    """A small body that inflates to `size` bytes of JSON-looking zeros (built now)."""
    packed = _bomb(size, coding)

    def behave(sock: socket.socket, request: Request) -> None:
        sock.sendall(response(packed, headers={"Content-Encoding": coding}))

    return behave


def endless(chunk: bytes = b"[" * 65536) -> Behaviour:
    """A chunked body that never ends, sent as fast as the client reads."""

    def behave(sock: socket.socket, request: Request) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        for _ in range(100_000):
            sock.sendall(frame)

    return behave
