"""Hostile SLS, chat and SMTP peers for the adversarial suite, on loopback only.

`sls_server(bad)` answers GetShipperStatus for the shipper `good` with one failed task in
the window and hands every request for the shipper `bad` to the behaviour `bad`.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import time
import urllib.parse
from collections.abc import Callable

from hostile import Behaviour, HostileServer, Listener, Request, response

PROJECT = "proj-adv"
LOGSTORE = "logs"


def task(n: int, start: int, message: str = "UnAuthorized: the role cannot write") -> dict:
    return {
        "id": f"task-{n:05d}",
        "taskStatus": "fail",
        "taskMessage": message,
        "taskCode": "UnAuthorized",
        "taskCreateTime": start + 10,
        "taskFinishTime": start + 20,
        "taskLastDataReceiveTime": start + 15,
    }


def query(request: Request) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))


def page(tasks: list[dict], total: int | None = None) -> bytes:
    body = {"count": len(tasks), "total": len(tasks) if total is None else total, "tasks": tasks}
    return response(json.dumps(body).encode(), headers={"x-log-requestid": "adv-rid"})


def sls_server(bad: Behaviour, window_start: int) -> HostileServer:
    good = [task(0, window_start)]

    def behave(sock: socket.socket, request: Request) -> None:
        if "/shipper/bad/" in request.path:
            bad(sock, request)
        elif int(query(request).get("offset", "0")) == 0:
            sock.sendall(page(good))
        else:
            sock.sendall(page([], total=len(good)))

    return HostileServer(behave).start()


def reordering(window_start: int, count: int = 700) -> Behaviour:
    tasks = [task(n, window_start) for n in range(count)]
    rng = random.Random(7)

    def behave(sock: socket.socket, request: Request) -> None:
        order = list(tasks)
        rng.shuffle(order)
        offset, size = int(query(request)["offset"]), int(query(request)["size"])
        sock.sendall(page(order[offset : offset + size], total=count))

    return behave


def distinct_long_messages(window_start: int, count: int = 300, size: int = 10_000) -> Behaviour:
    """`count` failed tasks, each with its own message of `size` characters."""
    tasks = [task(n, window_start, f"E{n:04d} " + f"m{n:04d} " * (size // 6)) for n in range(count)]

    def behave(sock: socket.socket, request: Request) -> None:
        offset = int(query(request)["offset"])
        sock.sendall(page(tasks[offset : offset + 500], total=count))

    return behave


def offset_ignoring(window_start: int) -> Behaviour:
    tasks = [task(n, window_start) for n in range(500)]

    def behave(sock: socket.socket, request: Request) -> None:
        sock.sendall(page(tasks, total=2000))

    return behave


def header(request: Request, name: str) -> str:
    for line in request.head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode("latin-1")
    return ""


def sls_echoing_secrets(sock: socket.socket, request: Request) -> None:
    """SignatureNotMatch quoting the STS token (as is and base64) and the Authorization."""
    token = header(request, "x-acs-security-token")
    quoted = base64.b64encode(token.encode()).decode()
    message = f"token {token} ({quoted}) {header(request, 'authorization')!r}: {token!r}"
    body = json.dumps({"errorCode": "SignatureNotMatch", "errorMessage": message}).encode()
    sock.sendall(response(body, 401, {"Content-Type": "application/json"}))


def chat_echoing_secrets(sock: socket.socket, request: Request) -> None:
    """400 quoting the whole request line (the URL's token) and the body."""
    line = request.head.split(b"\r\n", 1)[0].decode("latin-1")
    body = json.dumps({"ok": False, "error": f"bad request {line} {line!r}"}).encode()
    sock.sendall(response(body, 400, {"Content-Type": "application/json"}))


class SmtpPeer(Listener):
    """A raw SMTP server: `greeting` trickled or not, AUTH echoed back in a 535."""

    def __init__(self, *, trickle: float = 0.0) -> None:
        super().__init__()
        self.trickle = trickle
        self.start()

    def _send(self, sock: socket.socket, line: str) -> None:
        data = (line + "\r\n").encode()
        if not self.trickle:
            sock.sendall(data)
            return
        for byte in data:
            if self.stopped.is_set():
                return
            sock.sendall(bytes([byte]))
            time.sleep(self.trickle)

    def _serve(self, sock: socket.socket) -> None:
        try:
            with sock:
                self._send(sock, "220 adv.example ESMTP")
                reader = sock.makefile("rb")
                for raw in reader:
                    line = raw.decode("latin-1").strip()
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self._send(sock, "250-adv.example\r\n250 AUTH PLAIN LOGIN")
                    elif verb == "AUTH":
                        self._send(sock, f"535 5.7.8 rejected: {line} {line!r}")
                    elif verb == "QUIT":
                        self._send(sock, "221 bye")
                        return
                    else:
                        self._send(sock, "502 no")
        except OSError:
            return


Make = Callable[[int], Behaviour]
