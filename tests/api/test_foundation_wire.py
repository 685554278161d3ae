"""HTTP/1.1 on the wire: malformed and smuggling-prone messages, limits,
pipelining, keep-alive and slow clients. Raw sockets, no client library."""

from __future__ import annotations

import socket
import time

import pytest
import requests

import wire
from checks import assert_error, assert_wire_error


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
], ids=["no-spaces", "no-target", "bad-version", "space-in-name", "no-colon"])
def test_malformed_request_is_400_and_closed(server, data):
    response, closed = wire.exchange(server.port, data)
    assert_wire_error(response, 400, "bad_request")
    assert closed, "the connection must be closed after a malformed request"


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    wire.request("GET", "/healthz", {"X-Padding": "a" * (9 * 1024)}),
], ids=["400", "431"])
def test_wire_errors_carry_the_usual_headers(server, data):
    response, _ = wire.exchange(server.port, data)
    assert response.header("x-content-type-options") == "nosniff"
    assert response.header("cache-control") == "no-store"
    assert response.header("x-request-id")
    assert (response.header("connection") or "").lower() == "close"


LOGIN = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize("framing", [
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
], ids=["length-then-chunked", "chunked-then-length", "two-different-lengths"])
def test_ambiguous_body_framing_is_400_and_closed(server, framing):
    response, closed = wire.exchange(server.port, LOGIN + framing)
    assert_wire_error(response, 400, "bad_request")
    assert closed


def test_headers_over_8_kib_are_431(server):
    data = wire.request("GET", "/healthz", {"X-Padding": "a" * (9 * 1024)})
    response, closed = wire.exchange(server.port, data)
    assert_wire_error(response, 431, "headers_too_large")
    assert closed


def test_headers_under_the_limit_are_fine(server):
    data = wire.request("GET", "/healthz", {"X-Padding": "a" * (6 * 1024)})
    response, _ = wire.exchange(server.port, data)
    assert response.status == 200


def test_body_over_64_kib_is_413(server):
    data = wire.request("POST", "/api/auth/login", {"Content-Type": "application/json"},
                        b"{" + b" " * (64 * 1024 + 10) + b"}")
    response, closed = wire.exchange(server.port, data)
    assert_wire_error(response, 413, "payload_too_large")
    assert closed


def test_client_that_sends_a_large_body_before_reading_still_gets_413(server):
    # Most clients write the whole body before they read: the 413 must not be
    # lost to a connection reset when the server stops reading early.
    response = requests.post(server.url("/api/auth/login"), data=b"{" + b" " * (4 * 1024 * 1024) + b"}",
                             headers={"Content-Type": "application/json"}, timeout=20)
    assert_error(response, 413, "payload_too_large")


def test_chunked_body_over_the_limit_is_413(server):
    chunk = b" " * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"
    data = wire.request("POST", "/api/auth/login",
                        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, body,
                        content_length=False)
    response, _ = wire.exchange(server.port, data)
    assert_wire_error(response, 413, "payload_too_large")


def test_body_at_the_limit_is_not_413(server):
    body = b"{" + b" " * (64 * 1024 - 2) + b"}"
    data = wire.request("POST", "/api/auth/login", {"Content-Type": "application/json"}, body)
    response, _ = wire.exchange(server.port, data)
    assert response.status != 413


def test_max_body_bytes_changes_the_limit(make_server):
    server = make_server(env={"MAX_BODY_BYTES": "2048"})
    big = wire.request("POST", "/api/auth/login", {"Content-Type": "application/json"},
                       b"{" + b" " * 3000 + b"}")
    response, _ = wire.exchange(server.port, big)
    assert_wire_error(response, 413, "payload_too_large")
    small = wire.request("POST", "/api/auth/login", {"Content-Type": "application/json"},
                         b"{" + b" " * 1500 + b"}")
    response, _ = wire.exchange(server.port, small)
    assert response.status != 413


def test_pipelined_requests_are_answered_in_order(server):
    # The first goes to the database lane and the second is answered inline:
    # the answers must still come back in request order.
    data = (wire.request("GET", "/readyz", {"X-Request-Id": "pipe-1"})
            + wire.request("GET", "/healthz", {"X-Request-Id": "pipe-2"})
            + wire.request("GET", "/nope", {"X-Request-Id": "pipe-3"}))
    with wire.Connection(server.port) as conn:
        conn.send(data)
        first, second, third = conn.read_response(), conn.read_response(), conn.read_response()
        assert (first.header("x-request-id"), first.status) == ("pipe-1", 200)
        assert (second.header("x-request-id"), second.status) == ("pipe-2", 200)
        assert second.json() == {"status": "ok"}
        assert (third.header("x-request-id"), third.status) == ("pipe-3", 404)
        assert not conn.closed_by_peer(within=0.3)


def test_keep_alive_connection_is_reused(server):
    with wire.Connection(server.port) as conn:
        for i in range(5):
            conn.send(wire.request("GET", "/healthz", {"X-Request-Id": f"keep-{i}"}))
            response = conn.read_response()
            assert response.status == 200
            assert response.header("x-request-id") == f"keep-{i}"
            assert (response.header("connection") or "").lower() != "close"


def test_connection_close_is_honoured(server):
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("GET", "/healthz", {"Connection": "close"}))
        assert conn.read_response().status == 200
        assert conn.closed_by_peer()


def test_http_1_0_without_keep_alive_is_closed(server):
    with wire.Connection(server.port) as conn:
        conn.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        assert conn.read_response().status == 200
        assert conn.closed_by_peer()


@pytest.fixture(scope="module")
def impatient_server(databases, tmp_path_factory):
    import harness

    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("impatient"))
    try:
        yield pool.start(env={"READ_TIMEOUT": "1s"})
    finally:
        pool.close()


def test_trickling_client_is_cut_off(impatient_server):
    # Slowloris: a byte every 200 ms would take ~8 s for this request; the
    # server must give up after READ_TIMEOUT (1 s) and close.
    request = wire.request("GET", "/healthz", {"X-Slow": "x" * 30})
    started = time.monotonic()
    with wire.Connection(impatient_server.port) as conn:
        closed_after = None
        for byte in request[:-4]:
            try:
                conn.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            if conn.closed_by_peer(within=0.2):
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the server waited for the whole trickled request"
        assert closed_after < 4.0, closed_after
        assert b"200 OK" not in conn.buffer


def test_prompt_request_on_an_impatient_server_still_works(impatient_server):
    with wire.Connection(impatient_server.port) as conn:
        conn.send(wire.request("GET", "/healthz"))
        assert conn.read_response().status == 200
        # An idle keep-alive connection is governed by IDLE_TIMEOUT, not READ_TIMEOUT.
        time.sleep(1.5)
        conn.send(wire.request("GET", "/healthz"))
        assert conn.read_response().status == 200


def test_client_that_disconnects_mid_request_does_not_hurt_the_server(server):
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        sock.close()
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("GET", "/healthz"))
        assert conn.read_response().status == 200


def test_absolute_form_targets_are_served_like_origin_form(server):
    """RFC 9112 §3.2.2: a server must accept the absolute-form a proxy sends."""
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("GET", f"http://127.0.0.1:{server.port}/healthz/"))
        assert conn.read_response().status == 200
        conn.send(wire.request("GET", f"http://127.0.0.1:{server.port}/nope"))
        assert_wire_error(conn.read_response(), 404, "not_found")
        conn.send(wire.request("GET", "ftp://127.0.0.1/healthz"))
        assert_wire_error(conn.read_response(), 400, "bad_request")
