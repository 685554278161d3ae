"""Summary, list and admin stats reads through each io thread's pipelined
PostgreSQL connection (docs/ARCHITECTURE.md, "Pipelined reads").

The route's answer must be the same as on the db lane, a request whose
session is not in memory must still be served, a revoked session refused,
and a connection that dies must cost no request: its reads go to the db
lane and a new connection takes over.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

import ledger_flows as lf
from checks import assert_error

READ_PATHS = ("/api/referral/analytics/summary", "/api/referral/analytics/list")
STATS_PATH = "/api/admin/stats"
BACKEND_NAME = "referrald-pipelined-reads"


def answered(server) -> float:
    return server.metric("db_pipelined_reads_total") or 0.0


def pipelined_backends(server) -> list[int]:
    return [row[0] for row in server.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
        (BACKEND_NAME,))]


def read(server, who: lf.User, path: str, **params) -> requests.Response:
    answer = lf.get(server, path, who.headers, **params)
    assert answer.status_code == 200, answer.text
    return answer


def answered_on(server, who: lf.User, path: str, request_id: str) -> tuple[int, str]:
    """The status of one request and where its access-log line says it was
    answered: "pipelined", "io" (no statement), or a lane."""
    answer = lf.get(server, path, {**who.headers, "X-Request-Id": request_id})
    line = server.wait_for_line(lambda entry: entry.get("request_id") == request_id)
    return answer.status_code, line["answered_on"]


def wait_pipelined(server, who: lf.User, path: str = READ_PATHS[0], timeout: float = 10.0) -> None:
    """Reads until one is answered through the pipeline: the first read of
    an io thread starts its connection and goes to the db lane, and so does
    a session's first read."""
    deadline = time.monotonic() + timeout
    while True:
        before = answered(server)
        read(server, who, path)
        if answered(server) > before:
            return
        assert time.monotonic() < deadline, f"no read was pipelined:\n{server.log_text()[-2000:]}"
        time.sleep(0.05)


@pytest.fixture
def referrer_pair(postgresql_only, make_server):
    """Two servers on one database, pipelined and not, and a referrer with three
    referrals. One io thread, so the pipelined server has one such connection."""
    pipelined = make_server(env=lf.env(IO_THREADS="1"))
    plain = make_server(env=lf.env(DATABASE_PIPELINED_READS="false"), database_url=pipelined.database_url)
    lf.config(pipelined, lf.admin(pipelined))
    referrer = lf.user(pipelined)
    for _ in range(3):
        lf.refer(pipelined, referrer)
    return pipelined, plain, referrer


def test_the_pipelined_answers_are_the_db_lanes(referrer_pair):
    pipelined, plain, referrer = referrer_pair
    wait_pipelined(pipelined, referrer)
    assert plain.metric("db_pipelined_reads_total") is None, "the setting did not turn the pipeline off"

    before = answered(pipelined)
    summary = read(pipelined, referrer, READ_PATHS[0]).json()
    assert summary["total_referrals"] == 3 and summary["my_referral_code"]
    assert summary == read(plain, referrer, READ_PATHS[0]).json()
    pages = lf.all_pages(pipelined, READ_PATHS[1], referrer.headers, limit=2)
    assert [len(page) for page in pages] == [2, 1]  # the second page goes by the cursor's statement
    assert pages == lf.all_pages(plain, READ_PATHS[1], referrer.headers, limit=2)
    assert answered(pipelined) - before == 3, "a read went to the db lane"


def test_admin_stats_are_pipelined_for_admins_only(referrer_pair):
    pipelined, plain, referrer = referrer_pair
    boss = lf.admin(pipelined)
    wait_pipelined(pipelined, boss, STATS_PATH)

    before = answered(pipelined)
    stats = read(pipelined, boss, STATS_PATH).json()
    assert answered(pipelined) - before == 1, "admin stats went to the db lane"
    users = pipelined.query("SELECT COUNT(*) FROM users")[0][0]
    assert stats["referrals"]["total"] == 3 and stats["users"]["total"] == users, stats
    assert stats == read(plain, boss, STATS_PATH).json()
    # A user who is not an admin is refused on the io thread, before any
    # statement is pipelined; the access log names where each was answered.
    assert_error(lf.get(pipelined, STATS_PATH, referrer.headers), 403, "forbidden")
    assert answered(pipelined) - before == 1
    assert answered_on(pipelined, referrer, STATS_PATH, "stats-by-a-user") == (403, "io")
    assert answered_on(pipelined, boss, STATS_PATH, "stats-by-an-admin") == (200, "pipelined")
    assert answered_on(plain, boss, STATS_PATH, "stats-without-a-pipeline") == (200, "db")


def test_a_session_not_in_memory_is_served_and_a_revoked_one_refused(referrer_pair):
    pipelined, plain, referrer = referrer_pair
    wait_pipelined(pipelined, referrer)
    fresh_login = lf.User(referrer.email, lf.login_from(pipelined, referrer.email), referrer.id)
    # Its session is not cached yet: the db lane reads it, and answers alike.
    assert read(pipelined, fresh_login, READ_PATHS[0]).json() == read(pipelined, referrer, READ_PATHS[0]).json()

    assert lf.post(plain, "/api/auth/logout", referrer.headers).status_code == 200
    time.sleep(0.1)  # another instance's logout is heard within 100 ms
    for path in READ_PATHS:
        assert_error(lf.get(pipelined, path, referrer.headers), 401, "session_invalid")
    assert_error(lf.get(pipelined, READ_PATHS[0], {"Authorization": "Bearer nonsense"}), 401, "invalid_token")


def test_a_killed_pipelined_connection_costs_no_request_and_is_replaced(referrer_pair):
    pipelined, _, referrer = referrer_pair
    wait_pipelined(pipelined, referrer)
    killed = pipelined_backends(pipelined)
    assert killed, "no pipelined connection in pg_stat_activity"
    pipelined.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                    (BACKEND_NAME,))
    expected = read(pipelined, referrer, READ_PATHS[0]).json()
    deadline = time.monotonic() + 10
    while not (set(pipelined_backends(pipelined)) - set(killed)):
        assert read(pipelined, referrer, READ_PATHS[0]).json() == expected
        assert time.monotonic() < deadline, "the pipelined connection was not replaced"
        time.sleep(0.05)
    assert (pipelined.metric("db_pipelined_read_fallbacks_total") or 0) >= 1
    wait_pipelined(pipelined, referrer)


def test_a_stopped_pipelined_backend_holds_reads_at_most_about_2_s(referrer_pair):
    pipelined, _, referrer = referrer_pair
    wait_pipelined(pipelined, referrer)
    [stopped] = pipelined_backends(pipelined)
    expected = read(pipelined, referrer, READ_PATHS[0]).json()
    os.kill(stopped, signal.SIGSTOP)  # the connection stays open, nothing comes back
    try:
        started = time.monotonic()
        assert read(pipelined, referrer, READ_PATHS[0]).json() == expected
        waited = time.monotonic() - started
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert 2 <= waited < 4, f"a read waited {waited:.1f} s on a stopped backend"
    assert "no answer for 2 s" in pipelined.log_text()
    assert (pipelined.metric("db_pipelined_read_fallbacks_total") or 0) >= 1
    wait_pipelined(pipelined, referrer)


def test_without_prepared_statements_there_is_no_pipeline(postgresql_only, make_server):
    # A pipelined read is a named statement, which PgBouncer in transaction
    # mode cannot keep: the setting for it turns the pipeline off too.
    server = make_server(env=lf.env(DATABASE_PREPARED_STATEMENTS="false"))
    referrer = lf.user(server)
    for _ in range(3):
        read(server, referrer, READ_PATHS[0])
    assert server.metric("db_pipelined_reads_total") is None
    assert pipelined_backends(server) == []
