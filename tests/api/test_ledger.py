"""The append-only ledger (docs/API.md, "The ledger"; docs/ARCHITECTURE.md,
"The ledger"): every change of value is one hash-chained entry, the database
refuses to change or remove one, `referrald ledger verify` and
scripts/ledger_verify.py find the first broken entry, and the head, the
JSON-lines stream and the CSV export show it. Both engines."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import pathlib
import subprocess
import sys

import pytest
import requests

import flows
import harness
import invariants
from auth_checks import iso
import ledger_flows as lf
from checks import assert_error
from old_schema import STAGE_LEDGER
from support.unit_tests import run_engine_suite
from test_races import storm

SCRIPT = harness.REPO / "scripts" / "ledger_verify.py"


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "SIGNUP", 7, "CASH", beneficiary="REFEREE", auto_credit=True)
    return boss


def entries(server, after: int = 0) -> list[tuple]:
    return server.query("SELECT seq, kind, reward_id, user_id, amount, unit, actor, reason FROM ledger_entries "
                        "WHERE seq > %s ORDER BY seq", (after,))


def head_seq(server) -> int:
    return server.query("SELECT seq FROM ledger_head")[0][0]


def verify_cli(server) -> subprocess.CompletedProcess:
    return flows.cli(server, "ledger", "verify")


def stream(server, boss, **params) -> requests.Response:
    return lf.get(server, "/api/admin/ledger", boss.headers, **params)


def script_verdict(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], input=text, capture_output=True, text=True, timeout=60)


def assert_chain_ok(server, boss) -> None:
    """The Python check, the CLI, the head endpoint and the script agree."""
    invariants.ledger_chain_verifies(server)
    head = lf.get(server, "/api/admin/ledger/head", boss.headers).json()
    done = verify_cli(server)
    assert (done.returncode, done.stdout) == (0, f"ok {head['seq']} {head['hash']}\n"), done
    verdict = script_verdict(stream(server, boss).text)
    assert (verdict.returncode, verdict.stdout) == (0, f"ok {head['seq']} {head['hash']}\n"), verdict


def test_every_reward_move_appends_one_chained_entry(server, boss):
    before = head_seq(server)
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    mine = lf.reward_of(server, referral_id)
    theirs = lf.reward_of(server, referral_id, "REFEREE")
    # Configs in beneficiary order: the referee's is created and auto-credited
    # (by the system), then the referrer's is created.
    assert entries(server, before) == [
        (before + 1, "created", theirs["id"], referee.id, 7, "CASH", referee.id, "SIGNUP reward created"),
        (before + 2, "credited", theirs["id"], referee.id, 7, "CASH", "system", "auto credit"),
        (before + 3, "created", mine["id"], referrer.id, 100, "POINTS", referee.id, "SIGNUP reward created"),
    ]
    assert_chain_ok(server, boss)
    assert lf.credit(server, boss, mine["id"]).status_code == 200
    assert entries(server, before + 3) == [
        (before + 4, "credited", mine["id"], referrer.id, 100, "POINTS", boss.id, "credited by admin")]
    assert_chain_ok(server, boss)
    assert lf.revoke(server, boss, mine["id"], "chargeback").status_code == 200
    assert entries(server, before + 4) == [
        (before + 5, "revoked", mine["id"], referrer.id, 100, "POINTS", boss.id, "chargeback")]
    assert_chain_ok(server, boss)
    # The history reads the same entries.
    assert [(h["from"], h["to"], h["actor_id"], h["reason"]) for h in lf.history(server, boss, mine["id"])] == [
        (None, "PENDING", referee.id, "SIGNUP reward created"), ("PENDING", "CREDITED", boss.id, "credited by admin"),
        ("CREDITED", "REVOKED", boss.id, "chargeback")]
    invariants.check_all(server)


def test_refused_moves_append_nothing(server, boss):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.revoke(server, boss, reward_id).status_code == 200
    before = head_seq(server)
    assert_error(lf.credit(server, boss, reward_id), 409, "reward_not_pending")
    assert_error(lf.revoke(server, boss, reward_id), 409, "reward_already_revoked")
    assert_error(lf.credit(server, boss, "no-such-reward"), 404, "reward_not_found")
    assert head_seq(server) == before
    assert_chain_ok(server, boss)


def test_reward_events_are_published_with_the_reward(server, boss):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.credit(server, boss, reward_id).status_code == 200
    assert lf.revoke(server, boss, reward_id).status_code == 200
    rows = server.query("SELECT type, data_json FROM domain_events WHERE aggregate_id = %s ORDER BY seq", (reward_id,))
    assert [(kind, json.loads(data)["status"]) for kind, data in rows] == [
        ("reward.created", "PENDING"), ("reward.credited", "CREDITED"), ("reward.revoked", "REVOKED")]
    shown = json.loads(rows[-1][1])
    assert shown["reward_id"] == reward_id and shown["reward_value"] == 100 and shown["revoked_at"]


def test_head_and_stream_need_an_admin(server, boss):
    _, headers = flows.new_user(server)
    for path in ("/api/admin/ledger/head", "/api/admin/ledger", "/api/admin/rewards/export.csv"):
        assert_error(lf.get(server, path), 401, "missing_token")
        assert_error(lf.get(server, path, headers), 403, "forbidden")


def test_head_names_the_last_entry(server, boss):
    lf.refer(server, lf.user(server))
    seq, entry_hash, at = server.query("SELECT seq, hash, at FROM ledger_head")[0]
    answer = lf.get(server, "/api/admin/ledger/head", boss.headers)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["seq"], body["hash"]) == (seq, entry_hash)
    assert lf.TIMESTAMP.fullmatch(body["at"])
    assert server.query("SELECT hash, at FROM ledger_entries WHERE seq = %s", (seq,)) == [(entry_hash, at)]


def test_stream_pages_with_after(server, boss):
    lf.refer(server, lf.user(server))
    last = head_seq(server)
    answer = stream(server, boss, after=last - 2)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/x-ndjson"
    assert answer.headers.get("Transfer-Encoding") == "chunked"
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["seq"] for line in lines] == [last - 1, last]
    assert set(lines[0]) == {"seq", "kind", "reward_id", "user_id", "amount", "unit", "actor", "reason", "at",
                             "at_ms", "prev_hash", "hash"}
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    # From a cursor, the script continues the chain it has.
    assert stream(server, boss, after=last).text == ""
    everything = [json.loads(line) for line in stream(server, boss).text.splitlines()]
    assert [line["seq"] for line in everything] == list(range(1, last + 1))
    for bad in ("-1", "x", "1.5", ""):
        assert_error(stream(server, boss, after=bad), 400, "validation_error")


def test_update_and_delete_of_entries_are_refused_by_the_database(server, boss):
    lf.refer(server, lf.user(server))
    for statement, refusal in (("UPDATE ledger_entries SET amount = amount + 1", "append-only"),
                               ("DELETE FROM ledger_entries", "append-only"),
                               ("UPDATE rewards SET status = 'PAID'", "status")):
        with pytest.raises(Exception) as refused:
            server.query(statement)
        assert refusal in str(refused.value), refused.value
    assert_chain_ok(server, boss)


def drop_entry_triggers(database_url: str) -> None:
    if database_url.startswith("sqlite://"):
        harness.query(database_url, "DROP TRIGGER ledger_entries_no_update")
    else:
        harness.query(database_url, "DROP TRIGGER ledger_entries_no_change ON ledger_entries")


def test_a_changed_entry_is_found_by_verify_and_the_script(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    for _ in range(3):
        lf.refer(server, lf.user(server))
    assert_chain_ok(server, boss)
    drop_entry_triggers(server.database_url)
    server.query("UPDATE ledger_entries SET reason = 'edited' WHERE seq = 2")
    done = verify_cli(server)
    assert done.returncode == 1 and done.stdout.startswith("broken 2:"), done
    verdict = script_verdict(stream(server, boss).text)
    assert verdict.returncode == 1 and verdict.stdout.startswith("broken 2:"), verdict
    # A consistent edit (hash recomputed) breaks the next entry's link instead,
    # and the amount no longer matches the reward.
    server.query("UPDATE ledger_entries SET reason = 'SIGNUP reward created' WHERE seq = 2")
    assert verify_cli(server).returncode == 0
    row = dict(zip(("seq", "kind", "reward_id", "user_id", "amount", "unit", "actor", "reason", "at_ms",
                    "prev_hash"), server.query("SELECT seq, kind, reward_id, user_id, amount, unit, actor, reason, "
                                               "at, prev_hash FROM ledger_entries WHERE seq = 1")[0]))
    row["amount"] = 1000000
    server.query("UPDATE ledger_entries SET amount = 1000000, hash = %s WHERE seq = 1",
                 (invariants.ledger_verify.entry_hash(row),))
    done = verify_cli(server)
    assert done.returncode == 1 and done.stdout.startswith("broken 2:"), done
    verdict = script_verdict(stream(server, boss).text)
    assert verdict.returncode == 1 and verdict.stdout.startswith("broken 2:"), verdict


def seeded_database(databases, referrals: int) -> str:
    """A new database seeded by referrald-seed: 100 users, `referrals`
    referrals with their rewards, and the admin admin@seed.test."""
    url = databases.new_url()
    seed = pathlib.Path(harness.binary()).with_name("referrald-seed")
    seeded = subprocess.run([str(seed), "--database-url", url, "--users", "100", "--referrals", str(referrals),
                             "--bench-referrals", "0", "--clicks", "0", "--raw-clicks", "0", "--bench-clicks", "0",
                             "--no-analyze"], env=harness.server_env(), capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    return url


def test_verify_names_an_edit_on_a_later_page(databases):
    """verify reads the chain 10,000 entries a page, the next page on a
    second thread while it hashes this one: an edit past the first page, in
    a seeded and chained set of about 18,000 entries, is named too."""
    url = seeded_database(databases, referrals=9000)
    harness.query(url, STAGE_LEDGER)
    database = {"DATABASE_URL": url}
    assert harness.run_cli(["migrate"], database, timeout=300).returncode == 0
    last = harness.query(url, "SELECT seq, hash FROM ledger_head")[0]
    assert last[0] > 15000, last
    done = harness.run_cli(["ledger", "verify"], database, timeout=300)
    assert (done.returncode, done.stdout) == (0, f"ok {last[0]} {last[1]}\n"), done
    drop_entry_triggers(url)
    harness.query(url, "UPDATE ledger_entries SET amount = amount + 1 WHERE seq = 12345")
    done = harness.run_cli(["ledger", "verify"], database, timeout=300)
    assert done.returncode == 1 and done.stdout.startswith("broken 12345:"), done


def test_a_projection_that_disagrees_is_found_by_verify(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    _, referral_id = lf.refer(server, lf.user(server))
    lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert verify_cli(server).returncode == 0
    server.query("UPDATE rewards SET status = 'CREDITED' WHERE id = %s", (reward_id,))
    seq = server.query("SELECT MAX(seq) FROM ledger_entries WHERE reward_id = %s", (reward_id,))[0][0]
    done = verify_cli(server)
    assert done.returncode == 1 and done.stdout.startswith(f"broken {seq}:") and reward_id in done.stdout, done
    server.query("UPDATE rewards SET status = 'PENDING' WHERE id = %s", (reward_id,))
    assert verify_cli(server).returncode == 0
    # Counters are no entry's: reported at the head.
    server.query("UPDATE referrer_stats SET successful = successful + 1")
    done = verify_cli(server)
    assert done.returncode == 1 and done.stdout.startswith(f"broken {head_seq(server)}: referrer_stats"), done


def test_concurrent_credits_and_revokes_keep_the_sequence_gap_free(server, boss):
    reward_ids = []
    for _ in range(25):
        _, referral_id = lf.refer(server, lf.user(server))
        reward_ids.append(lf.reward_of(server, referral_id)["id"])
    before = head_seq(server)
    # 50 at once: each reward is credited and revoked by two racing calls.
    calls = [lambda r=r: lf.credit(server, boss, r) for r in reward_ids]
    calls += [lambda r=r: lf.revoke(server, boss, r) for r in reward_ids]
    answers = storm(calls)
    assert all(answer.status_code in (200, 409) for answer in answers), [a.text for a in answers]
    moved = sum(answer.status_code == 200 for answer in answers)
    seqs = [row[0] for row in server.query("SELECT seq FROM ledger_entries WHERE seq > %s ORDER BY seq", (before,))]
    assert seqs == list(range(before + 1, before + moved + 1))
    assert_chain_ok(server, boss)
    invariants.check_all(server)


def test_concurrent_applies_on_two_instances_keep_the_chain_gap_free(server, boss, make_server):
    """Each apply appends three entries (two rewards, one auto-credited) as
    one batch just before its COMMIT; applies racing through two servers on
    one database must still chain one after another with no gap."""
    second = make_server(env=lf.env(), database_url=server.database_url)
    codes = [lf.code_of(server, lf.user(server)) for _ in range(4)]
    referees = [lf.user(server) for _ in range(24)]
    before = head_seq(server)
    calls = [lambda n=n, who=who: lf.apply((server, second)[n % 2], who, codes[n % len(codes)])
             for n, who in enumerate(referees)]
    answers = storm(calls)
    assert [answer.status_code for answer in answers] == [200] * len(referees), [a.text for a in answers]
    seqs = [row[0] for row in server.query("SELECT seq FROM ledger_entries WHERE seq > %s ORDER BY seq", (before,))]
    assert seqs == list(range(before + 1, before + 3 * len(referees) + 1))
    assert second.alive()
    assert_chain_ok(server, boss)
    invariants.check_all(server)


def test_the_ledger_batch_store_tests_pass_on_this_engine(backend, databases):
    """ledger::append's batch, written just before the COMMIT
    (tests/unit/ledger_batch_test.cpp), against this engine."""
    run_engine_suite("LedgerBatch", backend, databases)


def test_a_user_holding_value_cannot_be_deleted(server, boss):
    referrer = lf.user(server)
    lf.refer(server, referrer)
    with contextlib.closing(server.db()) as conn:
        cursor = conn.cursor()
        if server.database_url.startswith("sqlite://"):
            cursor.execute("PRAGMA foreign_keys=ON")  # as the server's sessions run
        with pytest.raises(Exception):
            cursor.execute(("DELETE FROM users WHERE id = %s" if "postgresql" in server.database_url
                            else "DELETE FROM users WHERE id = ?"), (referrer.id,))
    assert server.query("SELECT COUNT(*) FROM ledger_entries WHERE user_id = %s", (referrer.id,)) == [(1,)]


def test_an_unverified_referrers_code_is_refused(server, boss):
    # Codes are made by logged-in (so verified) users; an imported account may
    # hold one unverified.
    owner = lf.user(server)
    code = lf.code_of(server, owner)
    server.query("UPDATE users SET is_verified = 0 WHERE id = %s", (owner.id,))
    assert_error(lf.apply(server, lf.user(server), code), 404, "invalid_code")
    server.query("UPDATE users SET is_verified = 1 WHERE id = %s", (owner.id,))
    assert lf.apply(server, lf.user(server), code).status_code == 200


def test_an_unverified_account_holding_rewards_is_not_replaced(server, boss):
    # Only imported accounts can be unverified with rewards (codes of unverified
    # owners are refused); a signup or create-admin for the address must not
    # delete them and their ledger history.
    referrer = lf.user(server)
    lf.refer(server, referrer)
    server.query("UPDATE users SET is_verified = 0 WHERE id = %s", (referrer.id,))
    server.query("DELETE FROM code_requests WHERE email = %s", (referrer.email,))  # past the cooldown
    assert_error(flows.signup(server, referrer.email), 409, "user_exists")
    done = flows.cli(server, "users", "create-admin", "--email", referrer.email, "--name", "Boss",
                     "--password-stdin", stdin="another long password 1\n")
    assert done.returncode == 1, done
    assert server.query("SELECT id FROM users WHERE email = %s", (referrer.email,)) == [(referrer.id,)]
    assert_chain_ok(server, boss)


# ---- the payout export

CSV_COLUMNS = ["reward_id", "referral_id", "user_id", "email", "name", "beneficiary", "reward_type", "reward_value",
               "reward_unit", "status", "created_at", "credited_at", "revoked_at"]


def export(server, boss, **params) -> requests.Response:
    return lf.get(server, "/api/admin/rewards/export.csv", boss.headers, **params)


def records(answer: requests.Response) -> list[dict]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.content.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))
    assert rows[0] == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def export_server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


def test_export_quotes_names_and_emails_as_rfc_4180_says(export_server):
    server = export_server
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    awkward = {'Smith, "Bob"': 'o"neil,x@example.com', "line\r\nbreak": "plain@example.com", "=1+2": "-x@example.com"}
    expected = {}
    for name, email in awkward.items():
        referrer = lf.user(server)
        _, referral_id = lf.refer(server, referrer)
        server.query("UPDATE users SET name = %s, email = %s WHERE id = %s", (name, email, referrer.id))
        expected[lf.reward_of(server, referral_id)["id"]] = (name, email)
    rows = {row["reward_id"]: row for row in records(export(server, boss))}
    for reward_id, (name, email) in expected.items():
        guarded = lambda text: "'" + text if text[0] in "=+-@" else text  # noqa: E731
        assert (rows[reward_id]["name"], rows[reward_id]["email"]) == (guarded(name), guarded(email))
        assert rows[reward_id]["reward_value"] == "100" and rows[reward_id]["status"] == "PENDING"
    assert b'"Smith, ""Bob"""' in export(server, boss).content


def test_export_filters_by_status_unit_and_dates(export_server):
    server = export_server
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 5, "CASH", beneficiary="REFEREE", auto_credit=True)
    lf.refer(server, lf.user(server))
    everything = records(export(server, boss))
    assert everything and [(r["created_at"], r["reward_id"]) for r in everything] == sorted(
        (r["created_at"], r["reward_id"]) for r in everything)
    credited = records(export(server, boss, status="CREDITED"))
    assert credited and {r["status"] for r in credited} == {"CREDITED"}
    assert {r["reward_id"] for r in credited} == {r["reward_id"] for r in everything if r["status"] == "CREDITED"}
    cash = records(export(server, boss, unit="CASH"))
    assert cash and {r["reward_unit"] for r in cash} == {"CASH"}
    today = everything[-1]["created_at"][:10]
    assert len(records(export(server, boss, **{"from": today, "to": today}))) == len(
        [r for r in everything if r["created_at"].startswith(today)])
    assert records(export(server, boss, to="2000-01-01")) == []
    assert records(export(server, boss, **{"from": "2999-01-01"})) == []
    for params in ({"status": "PAID"}, {"unit": "EUR"}, {"from": "2026-13-01"}, {"to": "yesterday"},
                   {"from": "2026-02-02", "to": "2026-02-01"}):
        assert_error(export(server, boss, **params), 400, "validation_error")


def test_an_export_of_several_pages_lists_every_reward_once_in_order(databases, make_server):
    """The export reads 2,000 rewards a page, the next page on a second
    thread while this one is sent. Over a seeded set of several pages whose
    created_at values are folded onto seven (so ties on created_at cross the
    page boundaries and only the id orders them) it lists exactly the
    rewards of the table, in (created_at, id) order, with their users."""
    url = seeded_database(databases, referrals=6000)
    harness.query(url, "UPDATE rewards SET created_at = 1780000000000 + created_at - created_at / 7 * 7")
    server = make_server(env=lf.env(), database_url=url)
    login = flows.login(server, "admin@seed.test", "seed-password")
    assert login.status_code == 200, login.text
    expected = server.query(
        "SELECT r.id, r.user_id, u.email, u.name, r.reward_value, r.status, r.created_at FROM rewards r "
        "JOIN users u ON u.id = r.user_id ORDER BY r.created_at, r.id")
    assert len(expected) > 3 * 2000, len(expected)
    listed = records(lf.get(server, "/api/admin/rewards/export.csv",
                            {"Authorization": f"Bearer {login.json()['token']}"}))
    assert [(r["reward_id"], r["user_id"], r["email"], r["name"], int(r["reward_value"]), r["status"],
             r["created_at"]) for r in listed] == [row[:6] + (iso(row[6]),) for row in expected]
