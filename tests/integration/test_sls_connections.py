"""sls.connections against loopback peers: what is sent, reuse, deadline, caps, errors."""

from __future__ import annotations

import re
import select
import socket
import time

import pytest

from hostile import compressed_bomb, endless, reply, response, silent, trickle
from shipper_alert import bodies, watchdog
from shipper_alert.sls.connections import ConnectionPool
from shipper_alert.sls.http11 import ProtocolError


def call(pool: ConnectionPool, url: str, seconds: float = 1.0, max_bytes: int = 4096, **kw):
    options = {"params": [], "body": None, "headers": {}, **kw}
    return pool.exchange(
        "GET",
        url,
        seconds=seconds,
        connect_timeout=1.0,
        read_timeout=1.0,
        max_bytes=max_bytes,
        **options,
    )


def test_the_request_is_sent_as_signed_and_the_connection_kept(serve):
    peers: set[tuple[str, int]] = set()
    answer = reply({"ok": 1}, **{"x-log-requestid": "ABC"})

    def behave(sock: socket.socket, request) -> None:
        peers.add(sock.getpeername())
        answer(sock, request)

    server = serve(behave)
    pool = ConnectionPool(2)
    params = [("from", "1"), ("status", ""), ("name", "a b&c")]
    headers = {"Host": "proj.127.0.0.1", "Date": "D", "Authorization": "LOG id:sig"}
    first = call(pool, server.url + "/logstores/l/shipper", params=params, headers=headers)
    second = call(pool, server.url + "/logstores/l/shipper", params=params, headers=headers)
    pool.close()

    assert (first.status, first.body, first.headers["x-log-requestid"]) == (
        200,
        b'{"ok": 1}',
        "ABC",
    )
    assert second.body == first.body
    assert len(peers) == 1  # one kept-alive connection
    head = server.received[0].head.decode("latin-1").split("\r\n")
    assert head[0] == "GET /logstores/l/shipper?from=1&status=&name=a+b%26c HTTP/1.1"
    assert sorted(head[1:]) == sorted(
        [
            "Host: proj.127.0.0.1",
            "Accept-Encoding: identity",
            "Date: D",
            "Authorization: LOG id:sig",
        ]
    )


def test_a_connection_the_peer_closed_is_not_reused(serve):
    def answer_and_hang_up(sock: socket.socket, request) -> None:
        sock.sendall(response(b"{}"))  # no Connection: close, as a peer's idle timeout is
        sock.shutdown(socket.SHUT_RDWR)

    server = serve(answer_and_hang_up)
    pool = ConnectionPool(2)
    bodies = []
    for _ in range(3):
        bodies.append(call(pool, server.url + "/x").body)
        ((kept,),) = pool._idle.values()  # kept: the peer said nothing of closing
        select.select([kept.sock], [], [], 2.0)  # its close has arrived (else the race below)
    pool.close()
    assert bodies == [b"{}"] * 3
    assert len(server.received) == 3  # the closed connection was seen and not sent on


def test_a_kept_connection_the_peer_closes_as_it_is_reused_is_replaced_once(serve):
    # The race the readability check in `_take` cannot see: the peer's close arrives only
    # when the next request does. That request goes once more, on a new connection.
    requests_on: dict[tuple[str, int], int] = {}

    def answer_once_then_hang_up(sock: socket.socket, request) -> None:
        peer = sock.getpeername()
        requests_on[peer] = requests_on.get(peer, 0) + 1
        if requests_on[peer] == 1:
            sock.sendall(response(b"{}"))
        else:
            sock.shutdown(socket.SHUT_RDWR)

    server = serve(answer_once_then_hang_up)
    pool = ConnectionPool(2)
    bodies = [call(pool, server.url + "/x").body for _ in range(3)]
    pool.close()
    assert bodies == [b"{}"] * 3
    assert len(server.received) == 5  # each reuse refused once, then sent on a new one
    assert sorted(requests_on.values()) == [1, 2, 2]


def test_a_fresh_connection_closed_without_a_reply_is_not_sent_again(serve):
    server = serve(lambda sock, request: sock.shutdown(socket.SHUT_RDWR))
    with pytest.raises(ConnectionError):
        call(ConnectionPool(1), server.url + "/x")
    assert len(server.received) == 1


@pytest.mark.parametrize("behaviour", [silent(), trickle(response(b"{}"), 0.05)])
def test_a_slow_peer_is_cut_off_at_the_whole_exchange_deadline(serve, behaviour):
    server = serve(behaviour)
    started = time.monotonic()
    with pytest.raises(watchdog.ExchangeTimeout):
        call(ConnectionPool(1), server.url + "/x", seconds=0.3)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("seconds", "socket_timeout"), [(5.0, 1.0), (0.3, 1.3), (1.0, 2.0)])
def test_a_read_timeout_as_long_as_the_deadline_leaves_the_deadline_to_the_watchdog(
    serve, seconds, socket_timeout
):
    # Both at one instant would race: a silent peer then gave TimeoutError or ExchangeTimeout.
    server = serve(reply({}))
    pool = ConnectionPool(1)
    call(pool, server.url + "/x", seconds=seconds)  # read_timeout=1.0
    ((kept,),) = pool._idle.values()
    assert kept.sock.gettimeout() == pytest.approx(socket_timeout)
    pool.close()


@pytest.mark.parametrize("behaviour", [endless(), compressed_bomb(1 << 20)])
def test_a_reply_past_the_cap_stops_reading(serve, behaviour):
    server = serve(behaviour)
    with pytest.raises(bodies.ReplyTooLarge):
        call(ConnectionPool(1), server.url + "/x", max_bytes=4096)


def test_a_refused_connection_is_the_os_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        call(ConnectionPool(1), f"http://127.0.0.1:{port}/x")


def raw(data: bytes, close: bool = False):
    def behave(sock: socket.socket, request) -> None:
        sock.sendall(data)
        if close:
            sock.shutdown(socket.SHUT_RDWR)

    return behave


def test_a_chunked_reply_is_joined_and_the_connection_kept(serve):
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\nT: v\r\n\r\n'
    server = serve(raw(chunked))
    pool = ConnectionPool(1)
    assert [call(pool, server.url + "/x").body for _ in range(2)] == [b'{"a": 1}'] * 2
    assert len(pool._idle[("http", "127.0.0.1", server.port)]) == 1
    pool.close()


def test_a_reply_without_a_length_is_read_to_the_close_and_not_kept(serve):
    server = serve(raw(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n{}", close=True))
    pool = ConnectionPool(1)
    reply = call(pool, server.url + "/x")
    assert (reply.status, reply.headers, reply.body) == (200, {"x": "y"}, b"{}")
    assert pool._idle == {}


def test_interim_replies_are_skipped_and_folded_headers_joined(serve):
    head = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nX-A: one\r\n two\r\n"
    server = serve(raw(head + b"Content-Length: 2\r\n\r\n{}"))
    reply = call(ConnectionPool(1), server.url + "/x")
    assert (reply.status, reply.headers["x-a"], reply.body) == (404, "one two", b"{}")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "a reply that does not begin with an HTTP/1.x status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "a reply that does not begin with an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", "more than 100 reply headers"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "a reply head longer than 65536 bytes"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "a malformed reply header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}", "an invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}", "other than chunked"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "an invalid chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            "longer than its size",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "closed 8 bytes before the end"),
        (b"HTTP/1.1 200 OK\r\nX: y", "the connection closed inside the reply head"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 9, "more than 8 interim (1xx) replies"),
    ],
)
def test_a_malformed_reply_is_a_protocol_error_naming_the_problem(serve, data, problem):
    server = serve(raw(data, close=True))
    with pytest.raises(ProtocolError, match=re.escape(problem)) as caught:
        call(ConnectionPool(1), server.url + "/x")
    assert "SSH" not in str(caught.value)  # the peer's bytes are not repeated


@pytest.mark.parametrize(
    "data",
    [
        response(b"{}") + b"HTTP/1.1 200 OK\r\n",  # written unasked after the reply
        response(b"{}", headers={"Connection": "close"}),
        response(b"{}").replace(b"HTTP/1.1", b"HTTP/1.0"),
    ],
)
def test_a_connection_that_cannot_carry_another_request_is_not_kept(serve, data):
    server = serve(raw(data))
    pool = ConnectionPool(1)
    assert call(pool, server.url + "/x").body == b"{}"
    assert pool._idle.get(("http", "127.0.0.1", server.port), []) == []


def test_a_header_with_a_line_break_is_refused_before_sending(serve):
    server = serve(reply({}))
    with pytest.raises(ValueError, match="a request header holds a line break"):
        call(ConnectionPool(1), server.url + "/x", headers={"X": "a\r\nEvil: 1"})
    with pytest.raises(ValueError, match="request target holds a space"):
        call(ConnectionPool(1), server.url + "/x y")
    assert server.received == []


def test_a_body_goes_with_its_length(serve):
    server = serve(reply({}))
    call(ConnectionPool(1), server.url + "/x", body=b'{"a":1}')
    (request,) = server.received
    assert request.body == b'{"a":1}'
    assert b"Content-Length: 7" in request.head.split(b"\r\n")


def test_the_default_host_header_is_the_urls_host_and_port_without_its_user(serve):
    server = serve(reply({}))
    call(ConnectionPool(1), server.url.replace("//", "//user:secret@") + "/x")
    (request,) = server.received
    head = request.head.decode("latin-1").split("\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in head
    assert "secret" not in request.head.decode("latin-1")


def test_a_head_and_chunk_lines_trickled_in_pieces_are_read_whole(serve):
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    server = serve(trickle(data, 0.001))
    pool = ConnectionPool(1)
    reply = call(pool, server.url + "/x", seconds=5.0)
    assert (reply.status, reply.headers["x"], reply.body) == (200, "y", b"{}")
    assert len(pool._idle[("http", "127.0.0.1", server.port)]) == 1
