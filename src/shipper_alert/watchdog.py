"""A whole-exchange deadline: work runs in a worker thread the caller waits for.

Socket timeouts bound each read, not a request: a peer that trickles a byte a second never
trips them. Here an exchange (DNS, connect, headers, body; an SMTP or SES session) runs in a
worker thread that the caller waits for at most `seconds`; at the deadline a watchdog shuts
down the sockets the exchange holds, so the worker stops too, and the caller gets
`ExchangeTimeout` on time. A worker stuck where no socket exists yet (a DNS lookup) is
abandoned as a daemon thread. Workers are reused from an idle list (an abandoned one is busy,
so later exchanges get others); reuse rather than running in the caller's thread keeps DNS
under the deadline. A watchdog was chosen over per-chunk deadline checks because http.client
reads the status line and headers in loops no caller can interrupt.

Standard library only: SLS reads use it without loading requests.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ExchangeTimeout(Exception):
    """The whole exchange did not finish within its deadline."""


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


def socket_timeout(read_timeout: float | None, seconds: float) -> float:
    """The read timeout for a socket under a whole-exchange deadline of `seconds`: the
    caller's, if shorter; else a backstop past the deadline, so the watchdog alone ends a
    silent exchange (both at one instant would race, and either error could come first)."""
    if read_timeout and read_timeout < seconds:
        return read_timeout
    return seconds + 1.0


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
