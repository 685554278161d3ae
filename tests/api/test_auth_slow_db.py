"""A stalled database stalls only what needs it: while a test holds a lock
that a signup waits on, /healthz still answers at once."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import pytest
import requests

import flows
from auth_checks import UNLIMITED

# "At once": typically well under 100 ms. A stalled /healthz would wait for
# the lock (half a second and more); the looser cap on the slowest answer
# only absorbs scheduling noise on a busy test machine.
HEALTHZ_TYPICAL_S = 0.1
HEALTHZ_SLOWEST_S = 0.3


def healthz_timings(server, count: int = 5) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.monotonic()
        response = requests.get(server.url("/healthz"), timeout=10)
        timings.append(time.monotonic() - started)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    return timings


def signup_in_background(server, email: str) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(flows.signup(server, email)), daemon=True)
    thread.start()
    return thread, answers


def check_healthz_while_signup_waits(server, release) -> None:
    email = flows.new_email("slow")
    thread, answers = signup_in_background(server, email)
    try:
        time.sleep(0.5)  # the signup reaches the lock and waits there
        assert thread.is_alive() and not answers, "the signup did not wait for the lock"
        timings = healthz_timings(server)
        assert thread.is_alive(), "the lock was released too early for the check to mean anything"
    finally:
        release()
    thread.join(timeout=30)
    assert answers and answers[0].status_code == 201, answers and answers[0].text
    assert sorted(timings)[len(timings) // 2] < HEALTHZ_TYPICAL_S, timings
    assert max(timings) < HEALTHZ_SLOWEST_S, timings


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("SQLite only (REFERRALD_TEST_BACKEND=sqlite)")


def test_sqlite_write_lock_does_not_stall_healthz(make_server, sqlite_only):
    server = make_server(env={**UNLIMITED, "DB_BUSY_TIMEOUT": "20s"})
    healthz_timings(server, 1)  # warm: the first connection is set up
    path = server.database_url[len("sqlite://"):]
    with contextlib.closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        check_healthz_while_signup_waits(server, lambda: conn.execute("ROLLBACK"))


def test_postgresql_table_lock_does_not_stall_healthz(make_server, postgresql_only):
    import psycopg2

    server = make_server(env=UNLIMITED)
    healthz_timings(server, 1)
    with contextlib.closing(psycopg2.connect(server.database_url, connect_timeout=5)) as conn:
        with conn.cursor() as cursor:
            cursor.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        check_healthz_while_signup_waits(server, conn.rollback)
