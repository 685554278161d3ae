"""Referrals and rewards under concurrency: every storm below has exactly one (or exactly
`cap`) winner, and the ledger's invariants hold after each one, on both engines."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
import invariants
import ledger_flows as lf
from checks import wait_until

CAP = 10
PAIRS = 16
TRIANGLES = 8


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, REFERRAL_MAX_USES_PER_CODE=CAP)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "FIRST_ORDER", 300, "CASH", auto_credit=True)
    return boss


def storm(calls: list) -> list:
    """Runs every call at once (they all wait at one barrier) and returns their answers."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def outcomes(answers) -> Counter:
    return Counter((answer.status_code, answer.json().get("code") if answer.status_code >= 400 else None)
                   for answer in answers)


def pending_reward(server, referrer=None) -> str:
    _, referral_id = lf.refer(server, referrer or lf.user(server))
    return lf.reward_of(server, referral_id)["id"]


def test_one_referee_twenty_codes(server, boss):
    codes = [lf.code_of(server, lf.user(server)) for _ in range(20)]
    referee = lf.user(server)
    answers = storm([lambda code=code: lf.apply(server, referee, code) for code in codes])
    assert outcomes(answers) == Counter({(200, None): 1, (409, "already_referred"): 19}), outcomes(answers)
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert server.query("SELECT id FROM referrals WHERE referee_id = %s", (referee.id,)) == [
        (winner["referral_id"],)]
    placeholders = ", ".join(["%s"] * len(codes))
    assert server.query(f"SELECT SUM(uses) FROM referral_codes WHERE code IN ({placeholders})",
                        tuple(codes)) == [(1,)]
    invariants.check_all(server)


def test_fifty_referees_one_capped_code(server, boss):
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    referees = [lf.user(server) for _ in range(50)]
    answers = storm([lambda who=who: lf.apply(server, who, code) for who in referees])
    assert outcomes(answers) == Counter({(200, None): CAP, (409, "code_exhausted"): 50 - CAP}), outcomes(answers)
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(CAP,)]
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referrer_id = %s", (referrer.id,)) == [(CAP,)]
    assert lf.stats_of(server, referrer.id) == (CAP, 0, CAP, 0)
    invariants.check_all(server)


def test_ten_concurrent_credits_of_one_reward(server, boss):
    reward_id = pending_reward(server)
    answers = storm([lambda: lf.credit(server, boss, reward_id) for _ in range(10)])
    assert outcomes(answers) == Counter({(200, None): 1, (409, "reward_not_pending"): 9}), outcomes(answers)
    assert server.query("SELECT COUNT(*) FROM reward_events WHERE reward_id = %s AND to_status = 'CREDITED'",
                        (reward_id,)) == [(1,)]
    invariants.check_all(server)


def test_ten_concurrent_revokes_of_one_reward(server, boss):
    reward_id = pending_reward(server)
    answers = storm([lambda n=n: lf.revoke(server, boss, reward_id, f"reason {n}") for n in range(10)])
    assert [answer.status_code for answer in answers].count(200) == 1, outcomes(answers)
    assert [answer.status_code for answer in answers].count(409) == 9, outcomes(answers)
    assert server.query("SELECT COUNT(*) FROM reward_events WHERE reward_id = %s AND to_status = 'REVOKED'",
                        (reward_id,)) == [(1,)]
    invariants.check_all(server)


def test_credits_and_revokes_of_one_reward_interleave_safely(server, boss):
    referrer = lf.user(server)
    reward_ids = [pending_reward(server, referrer) for _ in range(4)]
    calls = []
    for reward_id in reward_ids:
        calls += [lambda r=reward_id: lf.credit(server, boss, r) for _ in range(4)]
        calls += [lambda r=reward_id: lf.revoke(server, boss, r, "race") for _ in range(4)]
    answers = storm(calls)
    assert {answer.status_code for answer in answers} <= {200, 409}, outcomes(answers)
    assert lf.stats_of(server, referrer.id)[0] == 4
    invariants.check_all(server)


def test_ten_concurrent_generates_make_one_code(server, boss):
    someone = lf.user(server)
    answers = storm([lambda: lf.generate(server, someone) for _ in range(10)])
    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201], outcomes(answers)
    assert len({answer.json()["referral_code"] for answer in answers}) == 1
    assert server.query("SELECT code FROM referral_codes WHERE user_id = %s", (someone.id,)) == [
        (answers[0].json()["referral_code"],)]
    invariants.one_code_per_user(server)


def replayed(answers, first_status: int) -> None:
    """One answer ran; every duplicate waited for it and replays its answer
    (issue 17: they were 409 idempotency_in_progress while it ran)."""
    fresh = [a for a in answers if a.status_code == first_status and "Idempotency-Replayed" not in a.headers]
    assert len(fresh) == 1, outcomes(answers)
    for answer in answers:
        if answer is not fresh[0]:
            assert answer.headers.get("Idempotency-Replayed") == "true", answer.text
            assert (answer.status_code, answer.json()) == (fresh[0].status_code, fresh[0].json())


def test_one_idempotency_key_from_ten_threads_credits_once(server, boss):
    reward_id = pending_reward(server)
    k = {"Idempotency-Key": "race-" + uuid.uuid4().hex}
    answers = storm([lambda: lf.credit(server, boss, reward_id, **k) for _ in range(10)])
    replayed(answers, 200)
    assert server.query("SELECT COUNT(*) FROM reward_events WHERE reward_id = %s AND to_status = 'CREDITED'",
                        (reward_id,)) == [(1,)]
    invariants.check_all(server)


def test_one_idempotency_key_from_ten_threads_applies_once(server, boss):
    code, referee = lf.code_of(server, lf.user(server)), lf.user(server)
    k = {"Idempotency-Key": "race-" + uuid.uuid4().hex}
    answers = storm([lambda: lf.apply(server, referee, code, **k) for _ in range(10)])
    replayed(answers, 200)
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(1,)]
    invariants.check_all(server)


def test_one_idempotency_key_from_ten_threads_records_one_event(server, boss):
    referee, _ = lf.refer(server, lf.user(server))
    body = {"type": "FIRST_ORDER", "external_id": "race-" + uuid.uuid4().hex, "user_id": referee.id}
    k = {"Idempotency-Key": "race-" + uuid.uuid4().hex}
    answers = storm([lambda: lf.post(server, "/api/admin/events", boss.headers, body, **k) for _ in range(10)])
    replayed(answers, 201)
    invariants.check_all(server)


def test_one_external_id_from_ten_threads_records_one_event(server, boss):
    referee, referral_id = lf.refer(server, lf.user(server))
    external_id = "race-" + uuid.uuid4().hex
    answers = storm([lambda: lf.event(server, boss, external_id, user_id=referee.id) for _ in range(10)])
    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201], outcomes(answers)
    assert len({str(answer.json()) for answer in answers}) == 1
    assert server.query("SELECT COUNT(*) FROM events WHERE external_id = %s", (external_id,)) == [(1,)]
    assert len(lf.rewards_of(server, referral_id)) == 2
    invariants.check_all(server)


def test_credit_and_auto_credited_event_on_one_referral(server, boss):
    """Two roads to SUCCESS at once: the admin credits the SIGNUP reward while
    an auto-credited FIRST_ORDER reward is granted. The referral turns SUCCESS
    once, and its referrer's counters move once."""
    referrers = [lf.user(server) for _ in range(2)]
    pairs = [lf.refer(server, referrer) for referrer in referrers for _ in range(6)]
    calls = []
    for referee, referral_id in pairs:
        reward_id = lf.reward_of(server, referral_id)["id"]
        calls.append(lambda r=reward_id: lf.credit(server, boss, r))
        calls.append(lambda who=referee: lf.event(server, boss, "race-" + uuid.uuid4().hex, user_id=who.id))
    answers = storm(calls)
    assert {answer.status_code for answer in answers} == {200, 201}, outcomes(answers)
    for referrer in referrers:
        assert lf.stats_of(server, referrer.id) == (6, 6, 0, 0)
    invariants.check_all(server)


def test_many_referrers_many_moves(server, boss):
    referrers = [lf.user(server) for _ in range(3)]
    rewards = [pending_reward(server, referrer) for referrer in referrers for _ in range(4)]
    calls = [lambda r=r: lf.credit(server, boss, r) for r in rewards[::2]]
    calls += [lambda r=r: lf.revoke(server, boss, r, "bulk") for r in rewards]
    answers = storm(calls)
    assert {answer.status_code for answer in answers} <= {200, 409}, outcomes(answers)
    for referrer in referrers:
        assert lf.stats_of(server, referrer.id) == (4, 0, 0, 4)
    invariants.check_all(server)


def closing_calls(server, rings: list[list[lf.User]]) -> list:
    """For each ring, every member applies the next member's code."""
    codes = {who.id: lf.code_of(server, who) for ring in rings for who in ring}
    return [lambda who=who, target=ring[(i + 1) % len(ring)]: lf.apply(server, who, codes[target.id])
            for ring in rings for i, who in enumerate(ring)]


# Issue 12: on PostgreSQL 12 of 15 simultaneous A<->B pairs both committed.
def test_simultaneous_pairs_never_make_a_cycle(server, boss):
    pairs = [[lf.user(server), lf.user(server)] for _ in range(PAIRS)]
    answers = storm(closing_calls(server, pairs))
    # Per pair, whichever commits first wins; the other sees its referral.
    assert outcomes(answers) == Counter({(200, None): PAIRS, (400, "referral_cycle"): PAIRS}), outcomes(answers)
    invariants.no_referral_cycles(server)
    invariants.check_all(server)


def test_simultaneous_triangles_never_make_a_cycle(server, boss):
    triangles = [[lf.user(server), lf.user(server), lf.user(server)] for _ in range(TRIANGLES)]
    answers = storm(closing_calls(server, triangles))
    assert outcomes(answers) == Counter({(200, None): 2 * TRIANGLES, (400, "referral_cycle"): TRIANGLES}), (
        outcomes(answers))
    invariants.no_referral_cycles(server)
    invariants.check_all(server)


def test_a_ring_of_four_closed_by_two_applies_whose_roots_moved(postgresql_only, make_server):
    """The walk under the locks finds that the root it locked has gained a
    referrer; locking the new root is what keeps the last two applies of a
    ring apart. Ring X1 <- X2 <- X3 <- X4 <- X1 ("X1 applies X2's code",
    ...): applies 1 and 3 commit while applies 2 and 4 wait for their locks.
    Then apply 2's root has moved from X3 to X4 and apply 4's from X1 to X2;
    each walk shows no loop (the other's referral is not committed), so had
    they not locked the new roots, both would commit and close the ring."""
    server = make_server(env=lf.env(DB_POOL_SIZE=6))  # four applies in flight at once
    lf.config(server, lf.admin(server), "SIGNUP", 100)  # a ledger write, where applies 1 and 3 are held
    ring = [lf.user(server) for _ in range(4)]
    codes = [lf.code_of(server, who) for who in ring]
    apply = lambda n: lambda: lf.apply(server, ring[n], codes[(n + 1) % 4])  # noqa: E731
    with contextlib.closing(harness.connect_db(server.database_url)) as conn, ThreadPoolExecutor(4) as pool:
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        # Applies 1 and 3 stop at their ledger write, holding their locks, their referrals written.
        cursor.execute("SELECT seq FROM ledger_head WHERE id = 1 FOR UPDATE")
        first = [pool.submit(apply(0)), pool.submit(apply(2))]
        wait_until_waiting(server, 2)
        later = [pool.submit(apply(1)), pool.submit(apply(3))]
        wait_until_waiting(server, 4)
        cursor.execute("COMMIT")
        answers = [call.result(timeout=60) for call in first + later]
    assert outcomes(answers[:2]) == Counter({(200, None): 2}), outcomes(answers[:2])
    assert outcomes(answers[2:]) == Counter({(200, None): 1, (400, "referral_cycle"): 1}), outcomes(answers[2:])
    invariants.no_referral_cycles(server)
    invariants.check_all(server)


def wait_until_waiting(server, count: int) -> None:
    """Until `count` backends of this test's database wait on a lock."""
    wait_until(lambda: server.query("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND datname = current_database()")[0][0] == count,
               interval=0.01, what=f"{count} backends waiting on a lock")


def test_twenty_config_creations_of_one_kind_at_once(server, boss):
    bosses = [boss] + [lf.admin(server) for _ in range(4)]
    calls = [lambda who=bosses[n % len(bosses)], n=n: lf.post(
        server, "/api/admin/reward-config", who.headers,
        {"reward_type": "SIGNUP", "reward_value": 1000 + n, "reward_unit": "POINTS", "beneficiary": "REFEREE"})
        for n in range(20)]
    answers = storm(calls)
    assert [answer.status_code for answer in answers] == [201] * 20, outcomes(answers)
    active = server.query("SELECT id FROM reward_configs WHERE reward_type = 'SIGNUP' AND beneficiary = 'REFEREE' "
                          "AND is_active = 1")
    assert len(active) == 1
    assert active[0][0] in {answer.json()["id"] for answer in answers}
    invariants.check_all(server)
