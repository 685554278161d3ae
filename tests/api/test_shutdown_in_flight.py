"""On SIGTERM the server stops accepting, finishes the requests in
flight, and exits 0. The request is held in flight by a database lock the
test owns, released only after the signal was sent."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

import requests

import flows


@contextlib.contextmanager
def write_lock(server):
    """Holds the database's write lock on the code_requests table."""
    conn = server.db()
    cursor = conn.cursor()
    if server.database_url.startswith("sqlite://"):
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE code_requests IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        cursor.execute("ROLLBACK")
        conn.close()


def test_sigterm_lets_the_request_in_flight_finish(make_server):
    server = make_server(env={"SHUTDOWN_TIMEOUT": "20s"})
    answers = []
    with write_lock(server):
        request = threading.Thread(target=lambda: answers.append(requests.post(
            server.url("/api/auth/resend-otp"), json={"email": flows.new_email()}, timeout=30)))
        request.start()
        time.sleep(0.5)  # the resend now waits for the lock inside the server
        assert not answers, "the request finished before the lock was released"
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.alive(), "the server exited with a request in flight"
    request.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert answers[0].headers.get("Connection", "").lower() == "close"
    assert server.wait(timeout=15) == 0
    assert any(line.get("msg") == "stopped" for line in server.lines())
