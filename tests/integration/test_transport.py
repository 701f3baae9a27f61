"""The watchdog and the reply caps against hostile loopback peers: transport.exchange
(requests) and run_within alone: deadline, caps, inflation."""

from __future__ import annotations

import threading
import time

import pytest

from hostile import (
    HostileServer,
    compressed_bomb,
    endless,
    reply,
    response,
    silent,
    trickle,
)
from shipper_alert import bodies, transport, watchdog


def call(server: HostileServer, seconds: float = 1.0, max_bytes: int = 4096):
    session = transport.new_session()
    try:
        return transport.exchange(
            session, "GET", server.url + "/x", seconds=seconds, max_bytes=max_bytes
        )
    finally:
        session.close()


def test_a_plain_reply_is_read_and_identity_is_asked_for(serve):
    server = serve(reply({"ok": True}))
    answer = call(server)
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
    assert b"\r\nAccept-Encoding: identity\r\n" in server.received[0].head


@pytest.mark.parametrize(
    "behaviour",
    [
        trickle(response(b"{}" * 100), interval=0.1),  # headers trickled
        trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b" " * 100, 0.05),
        silent(),
    ],
    ids=["trickled head", "trickled body", "never answers"],
)
def test_a_slow_peer_is_cut_off_at_the_whole_exchange_deadline(serve, behaviour):
    server = serve(behaviour)
    started = time.monotonic()
    with pytest.raises(watchdog.ExchangeTimeout, match=r"GET exchange did not finish within 1.0s"):
        call(server, seconds=1.0)
    assert time.monotonic() - started < 1.5  # the promise: returned at the deadline


def test_a_body_past_the_cap_stops_reading(serve):
    with pytest.raises(bodies.ReplyTooLarge, match="more than the 4096 accepted"):
        call(serve(reply(b"x" * 5000)))
    with pytest.raises(bodies.ReplyTooLarge, match="larger than the 4096 bytes accepted"):
        call(serve(endless()), seconds=5.0)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_compressed_body_is_inflated_only_up_to_the_cap(serve, coding):
    with pytest.raises(bodies.ReplyTooLarge, match="larger than the 4096 bytes accepted"):
        call(serve(compressed_bomb(50_000_000, coding)), seconds=5.0)
    small = call(serve(compressed_bomb(100, coding)))
    assert small.json() == {"a": "0" * 100}


def test_an_unknown_coding_is_undecodable(serve):
    server = serve(reply(b"{}", **{"Content-Encoding": "br"}))
    with pytest.raises(bodies.ReplyUndecodable, match="unsupported Content-Encoding 'br'"):
        call(server)


def test_run_within_cancels_and_reports_the_overrun():
    cancelled = []
    with pytest.raises(watchdog.ExchangeTimeout, match="the SMTP session did not finish"):
        watchdog.run_within(
            0.2, lambda: time.sleep(5), cancel=lambda: cancelled.append(1), what="SMTP session"
        )
    assert cancelled == [1]
    assert watchdog.run_within(1.0, lambda: 42) == 42


def test_a_dns_lookup_that_never_returns_is_cut_off_at_the_deadline(monkeypatch):
    # A resolver that hangs: nothing on a socket to time out, only the watchdog helps.
    monkeypatch.setattr("socket.getaddrinfo", lambda *args, **kwargs: time.sleep(30))
    session = transport.new_session()
    started = time.monotonic()
    with pytest.raises(watchdog.ExchangeTimeout, match="POST exchange did not finish within"):
        transport.exchange(session, "POST", "http://slow-dns.invalid/x", seconds=0.5, max_bytes=100)
    assert time.monotonic() - started < 1.0


def test_workers_are_reused_and_an_abandoned_one_is_not_waited_for():
    def thread_id() -> int:
        return threading.get_ident()

    first = watchdog.run_within(1.0, thread_id)
    assert watchdog.run_within(1.0, thread_id) == first  # the idle worker again
    release = threading.Event()
    stuck: list[int] = []

    def hang() -> None:
        stuck.append(threading.get_ident())
        release.wait(10)

    with pytest.raises(watchdog.ExchangeTimeout, match="the stuck job did not finish"):
        watchdog.run_within(0.2, hang, what="stuck job")
    # The abandoned worker is still busy: the next job runs on another one, on time.
    assert watchdog.run_within(1.0, thread_id) != stuck[0]
    release.set()


def test_run_within_raises_what_the_work_raised():
    def fail() -> None:
        raise ValueError("bad reply")

    with pytest.raises(ValueError, match=r"^bad reply$"):
        watchdog.run_within(1.0, fail)


def test_a_read_timeout_as_long_as_the_deadline_becomes_a_backstop_past_it():
    assert watchdog.socket_timeout(1.0, 5.0) == 1.0  # shorter: it bounds each read
    assert watchdog.socket_timeout(5.0, 5.0) == 6.0  # at the deadline it would race it
    assert watchdog.socket_timeout(9.0, 0.3) == pytest.approx(1.3)
    assert watchdog.socket_timeout(None, 2.0) == 3.0  # none given: the watchdog alone
