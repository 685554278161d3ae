"""Idempotency-Key on apply, credit, revoke and events."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter

import pytest
import requests

import invariants
import ledger_flows as lf
from checks import assert_error


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "FIRST_ORDER", 300, "CASH")
    return boss


def key() -> dict:
    return {"Idempotency-Key": "k-" + uuid.uuid4().hex}


def assert_replay_of(replay, first) -> None:
    assert replay.status_code == first.status_code, replay.text
    assert replay.json() == first.json()
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.headers.get("Content-Type") == "application/json; charset=utf-8"


def pending_reward(server) -> str:
    _, referral_id = lf.refer(server, lf.user(server))
    return lf.reward_of(server, referral_id)["id"]


def test_apply_replay_returns_the_first_answer(server, boss):
    referrer, referee = lf.user(server), lf.user(server)
    code = lf.code_of(server, referrer)
    k = key()
    first = lf.apply(server, referee, code, **k)
    assert first.status_code == 200, first.text
    assert "Idempotency-Replayed" not in first.headers
    replay = lf.apply(server, referee, code, **k)
    assert_replay_of(replay, first)
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (referee.id,)) == [(1,)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(1,)]
    # Without the key the same request is a new one, and refused.
    assert_error(lf.apply(server, referee, code), 409, "already_referred")


def test_a_refusal_is_replayed_too(server, boss):
    someone, k = lf.user(server), key()
    first = lf.apply(server, someone, "REF-ZZZZZZZZ", **k)
    assert_error(first, 404, "invalid_code")
    assert_replay_of(lf.apply(server, someone, "REF-ZZZZZZZZ", **k), first)


def test_same_key_with_another_body_is_422(server, boss):
    referee, k = lf.user(server), key()
    first_code, other_code = lf.code_of(server, lf.user(server)), lf.code_of(server, lf.user(server))
    assert lf.apply(server, referee, first_code, **k).status_code == 200
    assert_error(lf.apply(server, referee, other_code, **k), 422, "idempotency_key_mismatch")
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (other_code,)) == [(0,)]


def test_credit_replay_is_200_not_409(server, boss):
    reward_id, k = pending_reward(server), key()
    first = lf.credit(server, boss, reward_id, **k)
    assert first.status_code == 200, first.text
    assert_replay_of(lf.credit(server, boss, reward_id, **k), first)
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING", "CREDITED"]
    # The same key on another reward is another request.
    assert_error(lf.credit(server, boss, pending_reward(server), **k), 422, "idempotency_key_mismatch")


def test_revoke_replay_and_mismatch(server, boss):
    reward_id, k = pending_reward(server), key()
    first = lf.revoke(server, boss, reward_id, "fraud ring", **k)
    assert first.status_code == 200, first.text
    assert_replay_of(lf.revoke(server, boss, reward_id, "fraud ring", **k), first)
    assert_error(lf.revoke(server, boss, reward_id, "another reason", **k), 422, "idempotency_key_mismatch")
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING", "REVOKED"]


def test_event_replay_keeps_201(server, boss):
    referee, _ = lf.refer(server, lf.user(server))
    k = key()
    body = {"type": "FIRST_ORDER", "external_id": "order-" + uuid.uuid4().hex, "user_id": referee.id}
    keyed = lf.post(server, "/api/admin/events", boss.headers, body, **k)
    assert keyed.status_code == 201, keyed.text
    assert_replay_of(lf.post(server, "/api/admin/events", boss.headers, body, **k), keyed)
    assert server.query("SELECT COUNT(*) FROM events WHERE external_id = %s", (body["external_id"],)) == [(1,)]
    assert_error(lf.post(server, "/api/admin/events", boss.headers, {**body, "external_id": "other"}, **k),
                    422, "idempotency_key_mismatch")


def test_keys_are_scoped_to_the_caller(server, boss):
    other_boss, k = lf.admin(server), key()
    first_reward, second_reward = pending_reward(server), pending_reward(server)
    assert lf.credit(server, boss, first_reward, **k).status_code == 200
    theirs = lf.credit(server, other_boss, second_reward, **k)
    assert theirs.status_code == 200, theirs.text
    assert "Idempotency-Replayed" not in theirs.headers
    assert theirs.json()["reward_id"] == second_reward
    assert server.query("SELECT status FROM rewards WHERE id = %s", (second_reward,)) == [("CREDITED",)]
    # Two users applying with one key each get their own referral.
    code = lf.code_of(server, lf.user(server))
    one, two = lf.user(server), lf.user(server)
    assert lf.apply(server, one, code, **k).status_code == 200
    answer = lf.apply(server, two, code, **k)
    assert answer.status_code == 200 and "Idempotency-Replayed" not in answer.headers
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id IN (%s, %s)", (one.id, two.id)) == [(2,)]


def test_key_over_255_characters_is_400_and_does_nothing(server, boss):
    reward_id = pending_reward(server)
    answer = lf.credit(server, boss, reward_id, **{"Idempotency-Key": "k" * 256})
    assert_error(answer, 400, "validation_error")
    assert server.query("SELECT status FROM rewards WHERE id = %s", (reward_id,)) == [("PENDING",)]
    longest = lf.credit(server, boss, reward_id, **{"Idempotency-Key": "k" * 255})
    assert longest.status_code == 200, longest.text


def test_a_key_deleted_between_claim_and_read_is_claimed_again(make_server, postgresql_only):
    # Issue 12: begin() claims the key (INSERT .. ON CONFLICT DO NOTHING,
    # which takes no lock) and then reads the row it met; the sweeper (or a
    # failed first request's forget) may delete that row in between, and the
    # empty read was dereferenced. A deleter loop stands in for the sweeper
    # while clients repeat one request per key; every answer must be the
    # request's own (404 user_not_found, run or replayed), none a 5xx or 422.
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    stop = threading.Event()

    def sweep():
        with contextlib.closing(server.db()) as conn:
            cursor = conn.cursor()
            while not stop.is_set():
                cursor.execute("DELETE FROM idempotency_keys")

    def client(answers: Counter):
        k = key()
        with requests.Session() as session:
            for _ in range(300):
                answer = session.post(server.url("/api/admin/events"), headers={**boss.headers, **k},
                                      json={"type": "FIRST_ORDER", "external_id": "x", "user_id": "nobody"},
                                      timeout=30)
                answers[(answer.status_code, answer.json().get("code"))] += 1

    answers = [Counter() for _ in range(4)]
    sweepers = [threading.Thread(target=sweep) for _ in range(2)]
    clients = [threading.Thread(target=client, args=(counter,)) for counter in answers]
    for thread in sweepers + clients:
        thread.start()
    for thread in clients:
        thread.join()
    stop.set()
    for thread in sweepers:
        thread.join()
    assert server.alive(), server.log_text()[-3000:]
    assert sum(answers, Counter()) == Counter({(404, "user_not_found"): 1200}), answers


def stall_inserts_of(server, referee_id: str) -> None:
    """From now on an INSERT of `referee_id`'s referral stalls inside the
    server's transaction (for longer than the test waits): SQLite runs a
    huge join in a trigger, PostgreSQL sleeps in one."""
    with contextlib.closing(server.db()) as conn:
        cursor = conn.cursor()
        if server.database_url.startswith("sqlite://"):
            cursor.execute("CREATE TABLE stall_rows (n INTEGER)")
            cursor.execute("INSERT INTO stall_rows WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
                           "WHERE n < 2000) SELECT n FROM c")
            cursor.execute(f"CREATE TRIGGER stall BEFORE INSERT ON referrals WHEN NEW.referee_id = '{referee_id}' "
                           "BEGIN SELECT COUNT(*) FROM stall_rows a, stall_rows b, stall_rows c; END")
        else:
            cursor.execute("CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS "
                           "$$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$")
            cursor.execute(f"CREATE TRIGGER stall BEFORE INSERT ON referrals FOR EACH ROW "
                           f"WHEN (NEW.referee_id = '{referee_id}') EXECUTE FUNCTION stall()")


def unstall(server) -> None:
    """Drops the stall, and on PostgreSQL ends the dead server's backends
    (a backend sleeping in the trigger does not notice its client is gone)."""
    with contextlib.closing(server.db()) as conn:
        cursor = conn.cursor()
        if server.database_url.startswith("sqlite://"):
            cursor.execute("DROP TRIGGER stall")
            cursor.execute("DROP TABLE stall_rows")
        else:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            cursor.execute("DROP TRIGGER stall ON referrals")
            cursor.execute("DROP FUNCTION stall()")


def test_a_keyed_apply_cut_off_by_kill_9_runs_once_when_retried(make_server):
    # Issue 17: the key was claimed in a transaction of its own before the
    # work, so a kill -9 during the work left it "running" and the retry got
    # 409 idempotency_in_progress for five minutes although nothing had been
    # applied. Now the key commits with the effect or not at all.
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    referrer, referee = lf.user(server), lf.user(server)
    code, k = lf.code_of(server, referrer), key()
    stall_inserts_of(server, referee.id)
    answers: list = []
    attempt = threading.Thread(target=lambda: answers.append(lf.apply(server, referee, code, **k)), daemon=True)
    attempt.start()
    attempt.join(timeout=1.5)
    assert attempt.is_alive() and not answers, answers and answers[0].text
    server.kill()
    attempt.join(timeout=30)
    unstall(server)

    server = make_server(env=lf.env(), database_url=server.database_url)
    retry = lf.apply(server, referee, code, **k)
    assert retry.status_code == 200, retry.text
    assert "Idempotency-Replayed" not in retry.headers
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (referee.id,)) == [(1,)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(1,)]
    assert server.query("SELECT state, response_status FROM idempotency_keys WHERE scope = %s AND idem_key = %s",
                        (referee.id, k["Idempotency-Key"])) == [("done", 200)]
    assert_replay_of(lf.apply(server, referee, code, **k), retry)
    invariants.check_all(server)


def test_invariants_hold(server):
    invariants.check_all(server)
