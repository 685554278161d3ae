"""PostgreSQL outage under load (issue 6): the database is stopped
(immediate: like a crash) while threads sign up, report events and read
balances. Every request must still be answered quickly — 503
database_unavailable with Retry-After while the database is away, never a
hang or another 5xx — the server's memory must stay bounded, and once
PostgreSQL is back the same process serves again, with every write it
acknowledged in the database. test_foundation_postgresql.py has the
single-request /readyz form of this.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest
import requests

import flows
import harness
import invariants
import ledger_flows as lf
import procstat

pytestmark = pytest.mark.usefixtures("postgresql_only")

SLOWEST_ANSWER = 2.0      # seconds, for any request at any moment
OUTAGE_SECONDS = 3.0
RECOVERY_TIMEOUT = 15.0


@dataclasses.dataclass
class Answer:
    kind: str
    sent: float
    took: float
    status: int
    code: str | None
    retry_after: str | None
    acked: str | None  # the email or external id a 2xx write stands for


class Load:
    """Worker threads, each looping over one kind of request with keep-alive."""

    def __init__(self, server, admin: lf.User, referrer: lf.User, referees: list[lf.User]):
        self.server, self.admin, self.referrer, self.referees = server, admin, referrer, referees
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._serial = 0

    def _next(self) -> int:
        with self._lock:
            self._serial += 1
            return self._serial

    def _call(self, session: requests.Session, kind: str, method: str, path: str, headers: dict, body,
              acked: str | None) -> None:
        sent = time.monotonic()
        answer = session.request(method, self.server.url(path), headers=headers, json=body, timeout=10)
        took = time.monotonic() - sent
        code = answer.json().get("code") if answer.status_code >= 400 else None
        with self._lock:
            self.answers.append(Answer(kind, sent, took, answer.status_code, code,
                                       answer.headers.get("Retry-After"), acked if answer.ok else None))

    def signups(self, session: requests.Session) -> None:
        email = flows.new_email("outage")
        body = {"name": "Outage", "email": email, "password": flows.PASSWORD}
        self._call(session, "signup", "POST", "/api/auth/signup", {}, body, email)

    def events(self, session: requests.Session) -> None:
        external_id = f"outage-order-{self._next()}"
        referee = self.referees[self._serial % len(self.referees)]
        body = {"type": "FIRST_ORDER", "external_id": external_id, "email": referee.email}
        self._call(session, "event", "POST", "/api/admin/events", self.admin.headers, body, external_id)

    def balances(self, session: requests.Session) -> None:
        self._call(session, "balance", "GET", "/api/rewards/balance", self.referrer.headers, None, None)

    def summaries(self, session: requests.Session) -> None:
        self._call(session, "summary", "GET", "/api/referral/analytics/summary", self.referrer.headers, None, None)

    def _worker(self, work) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                work(session)

    def run(self):
        workers = [self.signups, self.events, self.events, self.balances, self.summaries]
        threads = [threading.Thread(target=self._worker, args=(work,)) for work in workers]
        for thread in threads:
            thread.start()
        return threads


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), procstat.memory_kib(self.pid)))
            time.sleep(0.1)

    def peak(self, since: float = 0.0) -> int:
        return max(kib for at, kib in self.samples if at >= since)


@pytest.fixture
def cluster():
    """A cluster of its own (stopping it hurts no other test), committing
    synchronously: with the harness default (synchronous_commit = off) an
    immediate stop may lose commits PostgreSQL itself acknowledged."""
    own = harness.PostgresCluster()
    try:
        with open(own.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("synchronous_commit = on\n")
        own.stop("fast")
        own.start()
        yield own
    finally:
        own.destroy()


def wait_for_recovery(server) -> float:
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_TIMEOUT:
        if requests.get(server.url("/readyz"), timeout=10).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"referrald did not recover within {RECOVERY_TIMEOUT}s of PostgreSQL's return")


def server_env() -> dict:
    """AddressSanitizer keeps freed memory in a 256 MB quarantine, which a
    few thousand 503s fill: a small one keeps the memory bound meaningful
    for the sanitizer build too."""
    asan = os.environ.get("ASAN_OPTIONS")
    return lf.env(**({"ASAN_OPTIONS": asan + ":quarantine_size_mb=8"} if asan else {}))


def test_outage_under_load_answers_503_fast_and_loses_nothing(make_server, cluster):
    server = make_server(env=server_env(), database_url=cluster.create_database())
    admin = lf.admin(server)
    lf.config(server, admin)
    lf.config(server, admin, reward_type="FIRST_ORDER", value=500, unit="CASH", auto_credit=True)
    referrer = lf.user(server)
    referees = [lf.refer(server, referrer)[0] for _ in range(3)]
    pid = server.proc.pid

    load = Load(server, admin, referrer, referees)
    rss = RssSampler(pid)
    threads = load.run()
    rss.start()
    time.sleep(1.5)
    before_outage = rss.peak()
    cluster.stop("immediate")
    down = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    up = time.monotonic()
    cluster.start()
    recovered_after = wait_for_recovery(server)
    back = time.monotonic()
    time.sleep(1.5)
    load.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    rss.stop.set()

    answers = load.answers
    during = [a for a in answers if a.sent >= down and a.sent + a.took <= up]
    after = [a for a in answers if a.sent >= back]
    slow = [a for a in answers if a.took > SLOWEST_ANSWER]
    print(f"{len(answers)} requests: {len(during)} during the outage, {len(after)} after recovery "
          f"(recovered {recovered_after:.2f}s after PostgreSQL started); slowest {max(a.took for a in answers):.2f}s; "
          f"RSS peak {rss.peak()} KiB, before the outage {before_outage} KiB")

    assert server.alive() and server.proc.pid == pid
    assert not slow, f"{len(slow)} requests took over {SLOWEST_ANSWER}s, e.g. {slow[:3]}"
    assert len(during) >= 20, "too few requests fell inside the outage to judge it"
    wrong = [a for a in during if (a.status, a.code) != (503, "database_unavailable") or not a.retry_after]
    assert not wrong, f"answers during the outage that are not 503 database_unavailable: {wrong[:5]}"
    other_5xx = [a for a in answers if a.status >= 500 and (a.status, a.code) != (503, "database_unavailable")]
    assert not other_5xx, other_5xx[:5]
    for kind in ("signup", "event", "balance", "summary"):
        assert any(a.kind == kind and 200 <= a.status < 300 for a in after), f"no {kind} succeeded after recovery"
    assert rss.peak(since=down) < before_outage * 1.5 + 20_000, "memory grew during the outage"

    acked_signups = {a.acked for a in answers if a.kind == "signup" and a.acked}
    acked_events = {a.acked for a in answers if a.kind == "event" and a.acked}
    stored_users = {row[0] for row in server.query("SELECT email FROM users")}
    stored_events = {row[0] for row in server.query("SELECT external_id FROM events")}
    lost = (acked_signups - stored_users) | (acked_events - stored_events)
    print(f"acknowledged writes lost: {len(lost)} (of {len(acked_signups)} signups and {len(acked_events)} events)")
    assert not lost, sorted(lost)[:5]
    invariants.check_all(server)
