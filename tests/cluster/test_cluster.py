"""Issue 8: two referrald instances on one PostgreSQL primary (analytics on a
streaming replica) behind nginx round-robin stay one correct service.

Each test gets its own pair of instances, its own nginx and a fresh
database; the primary and the replica are shared by the session.
"""

from __future__ import annotations

import collections
import contextlib
import re
import threading
import time

import psycopg2
import requests

import flows
import harness
import invariants
import ledger_flows as lf
import wire
from auth_checks import assert_session_ended
from checks import assert_error
from support.smtp_sink import SmtpSink
from test_races import storm

SIGNUPS = 30
CAP = 6


def metrics_text(server: harness.Server) -> str:
    return requests.get(server.url("/metrics"), timeout=10).text


def served(server: harness.Server, route_pattern: str) -> int:
    """How many requests on routes matching `route_pattern` this instance
    answered, from its /metrics: counted before the answer is written (the
    access log is flushed only once a second)."""
    pattern = re.compile(route_pattern)
    counts = re.findall(r'^http_requests_total\{route="([^"]*)",[^}]*\} (\d+)$', metrics_text(server), re.MULTILINE)
    return sum(int(count) for route, count in counts if pattern.fullmatch(route))


def assert_both_served(front, route_pattern: str) -> None:
    counts = [served(instance, route_pattern) for instance in front.instances]
    assert all(counts), f"requests for {route_pattern} per instance: {counts}; nginx did not spread them"


def summary(front, who: lf.User) -> dict:
    answer = lf.get(front, "/api/referral/analytics/summary", who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_logout_through_one_instance_ends_the_session_on_the_other(make_cluster):
    front = make_cluster()
    first, second = front.instances
    email = flows.register(front)
    headers = lf.login_from(front, email, ip="203.0.113.7")
    # nginx appended its own peer to X-Forwarded-For; the server (trusting
    # 127.0.0.1) skipped that hop and recorded the client's address.
    assert front.query("SELECT ip FROM sessions WHERE user_id = %s", (flows.user_id(front, email),)) == [
        ("203.0.113.7",)]
    for server in (first, second):
        assert lf.post(server, "/api/auth/verify-session", headers).status_code == 200
    assert lf.post(second, "/api/auth/logout", headers).status_code == 200
    for server in (first, second, front):
        assert_session_ended(server, headers["Authorization"].removeprefix("Bearer "))


def test_metrics_are_not_served_through_nginx(make_cluster):
    # docs/OPERATIONS.md's rule: the instances answer each of these spellings
    # as /metrics (an exact `location = /metrics` let all but the first through).
    front = make_cluster()
    paths = ["/metrics", "/metrics/", "/metrics%2F", "//metrics", "/%6detrics"]
    statuses = {}
    for path in paths:
        with wire.Connection(front.nginx.port) as conn:
            conn.send(wire.request("GET", path))
            statuses[path] = conn.read_response().status
    assert statuses == {path: 404 for path in paths}
    assert requests.get(front.instances[0].url("/metrics/"), timeout=10).status_code == 200


def test_concurrent_applies_and_credits_over_both_instances_keep_every_invariant(make_cluster):
    front = make_cluster(env={"REFERRAL_MAX_USES_PER_CODE": str(CAP)})
    boss = lf.admin(front)
    lf.config(front, boss, "SIGNUP", 100)
    lf.config(front, boss, "SIGNUP", 50, "CASH", beneficiary="REFEREE")
    codes = [lf.code_of(front, lf.user(front)) for _ in range(3)]
    referees = [lf.user(front) for _ in range(20)]
    # Every referee tries two codes at once: one referral at most each, and no
    # code past its cap (3 codes x CAP < 20 referees, so some must miss out).
    calls = [lambda who=who, code=code: lf.apply(front, who, code)
             for n, who in enumerate(referees) for code in (codes[n % 3], codes[(n + 1) % 3])]
    answers = storm(calls)
    statuses = collections.Counter(answer.status_code for answer in answers)
    codes_seen = collections.Counter(answer.json().get("code") for answer in answers if answer.status_code != 200)
    print(f"applies: {statuses} {codes_seen}")
    assert set(statuses) <= {200, 409} and statuses[200] <= 3 * CAP and codes_seen["code_exhausted"], statuses
    assert front.query("SELECT COUNT(*) FROM referrals") == [(statuses[200],)]
    assert max(uses for (uses,) in front.query("SELECT uses FROM referral_codes")) <= CAP
    assert_both_served(front, "/api/referral/apply")

    # Each pending reward: two credits and a revoke at once, spread over both instances.
    rewards = [reward_id for (reward_id,) in front.query("SELECT id FROM rewards WHERE status = 'PENDING'")]
    calls = [call for reward_id in rewards for call in (
        lambda r=reward_id: lf.credit(front, boss, r), lambda r=reward_id: lf.credit(front, boss, r),
        lambda r=reward_id: lf.revoke(front, boss, r, "race"))]
    answers = storm(calls)
    assert {answer.status_code for answer in answers} <= {200, 409}, [a.text for a in answers if a.status_code >= 500]
    credited_twice = front.query("SELECT reward_id FROM reward_events WHERE to_status = 'CREDITED' "
                                 "GROUP BY reward_id HAVING COUNT(*) > 1")
    assert not credited_twice, credited_twice
    assert_both_served(front, r"/api/admin/rewards/\{reward_id\}/(credit|revoke)")
    invariants.check_all(front)


def test_analytics_come_from_the_replica_once_it_has_replayed(make_cluster, replica):
    front = make_cluster()
    lf.config(front, lf.admin(front), "SIGNUP", 100)
    referrer = lf.user(front)
    for _ in range(2):
        lf.refer(front, referrer)
    replica.wait_replayed()
    assert summary(front, referrer)["total_referrals"] == 2
    replica.pause_replay()
    try:
        lf.refer(front, referrer)
        # The primary has the third referral; the paused replica, which
        # answers the analytics, does not.
        assert lf.stats_of(front, referrer.id)[0] == 3
        assert {summary(front, referrer)["total_referrals"] for _ in range(4)} == {2}
    finally:
        replica.pause_replay(False)
    replica.wait_replayed()
    assert {summary(front, referrer)["total_referrals"] for _ in range(4)} == {3}


def test_each_email_is_sent_exactly_once_by_two_senders(make_cluster):
    with SmtpSink() as sink:
        front = make_cluster(env={"EMAIL_BACKEND": "smtp", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": sink.port})
        emails = [flows.new_email("mail") for _ in range(SIGNUPS)]
        answers = storm([lambda email=email: flows.signup(front, email) for email in emails])
        assert [answer.status_code for answer in answers] == [201] * SIGNUPS, [a.text for a in answers]
        assert_both_served(front, "/api/auth/signup")
        deadline = time.monotonic() + 20
        while front.query("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'") != [(0,)]:
            assert time.monotonic() < deadline, front.query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            time.sleep(0.05)
        time.sleep(1.5)  # past both senders' poll interval: a late duplicate would arrive now
        received = collections.Counter(to for message in sink.messages for to in message.rcpt_to)
    assert received == collections.Counter(emails), {to: n for to, n in received.items() if n != 1}
    sent = [instance.metric("emails_sent_total") for instance in front.instances]
    print(f"emails sent per instance: {sent}")
    assert sum(sent) == SIGNUPS


def test_two_instances_starting_at_once_migrate_an_empty_database_once(make_cluster, databases):
    versions = harness.migration_versions()
    for _ in range(3):
        front = make_cluster(database_url=databases.new_url(), simultaneous=True)
        applied = [line["msg"] for line in front.lines() if line.get("msg", "").startswith("applied migration ")]
        assert len(applied) == len(versions) and len(set(applied)) == len(versions), applied
        assert {row[0] for row in front.query("SELECT version FROM schema_migrations")} == versions
        assert requests.get(front.url("/readyz"), timeout=10).status_code == 200
        flows.register(front)


class Load:
    """Threads sending one request over and over through nginx until stop();
    keeps the answers that were not 200."""

    def __init__(self, send, threads: int = 4) -> None:
        self.send = send
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            answer = self.send()
            self.sent += 1
            if answer.status_code != 200:
                self.failures.append(f"{answer.status_code} {answer.text[:200]}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def test_one_instance_killed_the_other_keeps_serving_through_nginx(make_cluster):
    front = make_cluster()
    victim, survivor = front.instances
    lf.config(front, lf.admin(front), "SIGNUP", 100)
    who = lf.user(front)
    # GETs: nginx passes one the dying instance never answered to the other
    # instance (a POST it may not: the POST may have been applied).
    load = Load(lambda: lf.get(front, "/api/referral/analytics/summary", who.headers))
    time.sleep(0.5)
    victim.kill()
    time.sleep(0.5)
    load.stop()
    assert load.sent and not load.failures, load.failures
    before = served(survivor, "/api/.*")
    answers = [lf.post(front, "/api/auth/verify-session", who.headers) for _ in range(10)]
    answers += [lf.generate(front, who) for _ in range(10)]
    assert {answer.status_code for answer in answers} <= {200, 201}, [answer.text for answer in answers]
    assert served(survivor, "/api/.*") - before == 20
    _, referral_id = lf.refer(front, who)
    assert lf.referral_status(front, referral_id) == "PENDING"


def test_rolling_restart_fails_no_request(make_cluster):
    """docs/OPERATIONS.md's rolling upgrade: take an instance out of nginx
    (reload), SIGTERM it, start its replacement, put that in; one instance
    after the other, under a POST load that nginx may not retry."""
    front = make_cluster()
    who = lf.user(front)
    load = Load(lambda: lf.post(front, "/api/auth/verify-session", who.headers))
    for old in list(front.instances):
        staying = [instance for instance in front.instances if instance is not old]
        front.nginx.route_to([instance.port for instance in staying])
        assert old.stop() == 0
        front.instances = [*staying, front.spawn()]
        front.nginx.route_to([instance.port for instance in front.instances])
        time.sleep(0.5)  # the newcomer serves a while before the next one goes
    load.stop()
    assert load.sent and not load.failures, f"{len(load.failures)} of {load.sent} failed: {load.failures[:3]}"
    assert all(served(instance, "/api/auth/verify-session") for instance in front.instances)


def test_a_session_listener_behind_pgbouncer_never_trusts_its_cache(databases, bouncer, tmp_path):
    # DATABASE_LISTEN_URL left on PgBouncer (transaction mode): the LISTEN
    # hears nothing, so the listener must never call its cache fresh, and a
    # session ended without any notification is still refused.
    pool = harness.ServerPool(databases, tmp_path)
    try:
        url = bouncer.url(databases.new_url())
        server = pool.start(env=lf.env(DATABASE_PREPARED_STATEMENTS="false", DATABASE_LISTEN_URL=url),
                            database_url=url)
        who = lf.user(server)
        for _ in range(20):
            assert lf.post(server, "/api/auth/verify-session", who.headers).status_code == 200
        assert server.metric("session_cache_fresh") == 0
        assert server.metric("session_cache_hits_total") == 0
        with contextlib.closing(psycopg2.connect(url)) as conn:
            with conn.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")  # no trigger, no NOTIFY
                cursor.execute("DELETE FROM sessions WHERE user_id = %s", (who.id,))
            conn.commit()
        assert_error(lf.post(server, "/api/auth/verify-session", who.headers), 401, "session_invalid")
    finally:
        pool.close()

