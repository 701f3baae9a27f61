"""One HTTP exchange under a whole-exchange deadline and a reply-size cap.

Socket timeouts bound each read, not a request: a peer that trickles a byte a second never
trips them. Here every exchange (DNS, connect, headers, body) runs in a worker thread that the
caller waits for at most `seconds`; at the deadline a watchdog shuts down the sockets the
exchange holds, so the worker stops too, and the caller gets `ExchangeTimeout` on time. A
worker stuck where no socket exists yet (a DNS lookup) is abandoned as a daemon thread.
Workers are reused from an idle list (an abandoned one is busy, so later exchanges get
others); reuse rather than running in the caller's thread keeps DNS under the deadline.
A watchdog was chosen over per-chunk deadline checks because http.client reads the status
line and headers in loops no caller can interrupt.

Bodies are streamed raw and counted after decoding; `Accept-Encoding: identity` is asked
for, and a peer that compresses anyway is inflated by `zlib` only up to the cap (RFC 9110
§8.4.1 codings gzip and deflate; anything else is `ReplyUndecodable`).
`run_within` gives SMTP and SES the same bound around a whole session.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

T = TypeVar("T")

# Reply caps per kind of peer. GetShipperStatus pages hold at most 500 tasks, each with an
# error message of a few hundred bytes: a few MB at most.
SLS_REPLY_BYTES = 8 * 1024 * 1024
# Chat services answer a post with a short JSON status ({"errcode":0,"errmsg":"ok"}).
CHAT_REPLY_BYTES = 64 * 1024
CHUNK_BYTES = 16 * 1024

_local = threading.local()


class ExchangeTimeout(requests.Timeout):
    """The whole exchange did not finish within its deadline."""


class ReplyTooLarge(requests.RequestException):
    """The reply body (after any inflation) is larger than the cap for that peer."""


class ReplyUndecodable(requests.exceptions.ContentDecodingError):
    """The reply uses a content coding this client does not inflate, or a corrupt one."""


class Watch:
    """The sockets one exchange uses, so the watchdog can shut them down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.cancelled = False

    def add(self, connection: Any) -> None:
        """Watch `connection` (anything with a `.sock`, read when the watchdog fires)."""
        with self._lock:
            self._connections.append(connection)
            cancelled = self.cancelled
        if cancelled:
            shutdown_socket(connection)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            connections = list(self._connections)
        for connection in connections:
            shutdown_socket(connection)


def shutdown_socket(holder: Any) -> None:
    """Shut down `holder.sock` (a connection, an smtplib client) from any thread.

    Unlike close(), this takes no lock a blocked reader holds, and wakes that reader.
    """
    sock = getattr(holder, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # The plain socket call, not SSLSocket's: no TLS alert from another thread.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


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


class _Worker:
    """A daemon thread that runs one job at a time and offers itself again when done."""

    def __init__(self, workers: _Workers) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Any]] = queue.SimpleQueue()
        self._workers = workers
        threading.Thread(target=self._loop, name="shipper-alert exchange", daemon=True).start()

    def submit(self, job: Callable[[], None], done: Any) -> None:
        """Run `job()`, then release the lock `done` (once offered again for reuse)."""
        self._jobs.put((job, done))

    def _loop(self) -> None:
        while True:
            job, done = self._jobs.get()
            job()
            kept = self._workers.offer(self)
            done.release()
            if not kept:
                return


class _Workers:
    """Idle workers kept for reuse: starting a thread per exchange cost a fifth of a check's
    CPU. A worker abandoned at a deadline is busy, so the next job gets another one; when
    (if ever) its exchange ends, it is offered again or, past `keep` idle ones, it ends."""

    def __init__(self, keep: int) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._keep = keep

    def take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self)

    def offer(self, worker: _Worker) -> bool:
        with self._lock:
            if len(self._idle) >= self._keep:
                return False
            self._idle.append(worker)
            return True


# More than any pool of this package runs at once (SLS reads, a channel each, the ledger).
_WORKERS = _Workers(keep=64)


def run_within(
    seconds: float,
    work: Callable[[], T],
    *,
    cancel: Callable[[], None] | None = None,
    what: str = "exchange",
) -> T:
    """`work()` in a worker thread; `ExchangeTimeout` if it has not returned in `seconds`.

    At the deadline `cancel()` is called (it should close what `work` blocks on) and the
    worker, a daemon thread, is left to end on its own; later calls use other workers.
    """
    if seconds <= 0:
        raise ExchangeTimeout(f"no time left for the {what}")
    outcome: list[Any] = []
    done = threading.Lock()
    done.acquire()

    def job() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the waiting caller
            outcome.append((False, exc))

    _WORKERS.take().submit(job, done)
    if not done.acquire(timeout=seconds):
        if cancel is not None:
            cancel()
        raise ExchangeTimeout(f"the {what} did not finish within {seconds:.1f}s")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


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
    requests raises, `ExchangeTimeout` (a `requests.Timeout`), `ReplyTooLarge` or
    `ReplyUndecodable`. `kwargs` go to `session.request` (params, data, json).
    """
    watch = Watch()
    merged = {"Accept-Encoding": "identity", **(headers or {})}
    # Without a read timeout of its own, the watchdog alone ends a silent exchange (a socket
    # timeout at the same instant would race it); the socket's is a backstop.
    read = min(read_timeout, seconds) if read_timeout else seconds + 1.0
    timeout = (min(connect_timeout, seconds), read)

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


def _inflater(coding: str) -> Any:
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return "deflate"  # zlib-wrapped or raw: decided on the first byte
    raise ReplyUndecodable(f"unsupported Content-Encoding {coding[:40]!r}")


def read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed `response`, or `ReplyTooLarge` past `max_bytes`."""
    headers = response.headers
    chunks = response.raw.stream(CHUNK_BYTES, decode_content=False)
    return read_body(
        headers.get("Content-Encoding", ""), headers.get("Content-Length", ""), chunks, max_bytes
    )


def read_body(coding: str, declared: str, chunks: Iterable[bytes], max_bytes: int) -> bytes:
    """The body `chunks` carry (raw, as sent with Content-Encoding `coding` and
    Content-Length `declared`, either may be ""), decoded, or `ReplyTooLarge` past
    `max_bytes`."""
    coding = coding.strip().lower()
    inflater = _inflater(coding)
    if inflater is None and declared.isdigit() and int(declared) > max_bytes:
        raise ReplyTooLarge(f"reply of {declared} bytes, more than the {max_bytes} accepted")
    parts: list[bytes] = []
    size = 0
    try:
        for raw in chunks:
            if inflater == "deflate":
                wbits = zlib.MAX_WBITS if raw[:1] == b"\x78" else -zlib.MAX_WBITS
                inflater = zlib.decompressobj(wbits)
            pending = raw
            while pending:
                if inflater is None:
                    data, pending = pending, b""
                else:
                    # Never more than one byte past the cap, whatever the ratio.
                    data = inflater.decompress(pending, max_bytes - size + 1)
                    pending = inflater.unconsumed_tail
                size += len(data)
                if size > max_bytes:
                    raise ReplyTooLarge(f"reply larger than the {max_bytes} bytes accepted")
                parts.append(data)
    except zlib.error as exc:
        raise ReplyUndecodable(f"corrupt {coding} body: {exc}") from None
    return b"".join(parts)
