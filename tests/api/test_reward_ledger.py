"""The reward ledger: copied values, credit, revoke, history, and the
referral status and counters that follow every move."""

from __future__ import annotations

import pytest

import invariants
import ledger_flows as lf
from checks import assert_error

INT64_MAX = 2**63 - 1
REWARD_FIELDS = {"reward_id", "referral_id", "reward_type", "reward_value", "reward_unit", "beneficiary", "status",
                 "created_at", "credited_at", "revoked_at", "available_at"}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, value=100)
    return boss


def test_value_unit_and_type_are_copied_into_the_ledger(server, boss):
    lf.config(server, boss, "SIGNUP", 250, "CASH")
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    lf.config(server, boss, "SIGNUP", 999, "POINTS")  # changes the terms for later referrals only
    reward = lf.reward_of(server, referral_id)
    assert (reward["reward_type"], reward["reward_value"], reward["reward_unit"]) == ("SIGNUP", 250, "CASH")
    listed = lf.get(server, "/api/rewards/history", referrer.headers).json()
    assert [(item["reward_value"], item["reward_unit"]) for item in listed] == [(250, "CASH")]
    _, later = lf.refer(server, referrer)
    assert lf.reward_of(server, later)["reward_value"] == 999
    lf.config(server, boss, "SIGNUP", 100, "POINTS")


def test_credit_answers_and_moves_everything_in_step(server, boss):
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    reward = lf.reward_of(server, referral_id)
    answer = lf.credit(server, boss, reward["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"message": "Reward credited successfully", "reward_id": reward["id"],
                             "status": "CREDITED"}
    assert lf.reward_of(server, referral_id)["status"] == "CREDITED"
    assert server.query("SELECT credited_at IS NOT NULL, revoked_at FROM rewards WHERE id = %s",
                        (reward["id"],)) in ([(1, None)], [(True, None)])
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert lf.stats_of(server, referrer.id) == (1, 1, 0, 0)


def test_unknown_reward_is_404(server, boss):
    assert_error(lf.credit(server, boss, "no-such-reward"), 404, "reward_not_found")
    assert_error(lf.revoke(server, boss, "no-such-reward"), 404, "reward_not_found")
    assert_error(lf.get(server, "/api/admin/rewards/no-such-reward/history", boss.headers), 404,
                    "reward_not_found")


def test_credit_twice_is_409_and_writes_no_second_row(server, boss):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.credit(server, boss, reward_id).status_code == 200
    assert_error(lf.credit(server, boss, reward_id), 409, "reward_not_pending")
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING", "CREDITED"]


def test_revoked_reward_cannot_be_credited(server, boss):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.revoke(server, boss, reward_id).status_code == 200
    assert_error(lf.credit(server, boss, reward_id), 409, "reward_not_pending")
    assert lf.reward_of(server, referral_id)["status"] == "REVOKED"


@pytest.mark.parametrize("body,code", [(None, "invalid_json"), ({}, "validation_error"),
                                       ({"reason": ""}, "validation_error"), ({"reason": 5}, "validation_error")])
def test_revoke_needs_a_reason(server, boss, body, code):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert_error(lf.post(server, f"/api/admin/rewards/{reward_id}/revoke", boss.headers, body), 400, code)
    assert lf.reward_of(server, referral_id)["status"] == "PENDING"
    assert len(lf.history(server, boss, reward_id)) == 1


def test_revoke_pending_rejects_the_referral(server, boss):
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    reward_id = lf.reward_of(server, referral_id)["id"]
    answer = lf.revoke(server, boss, reward_id, "duplicate account")
    assert answer.status_code == 200, answer.text
    assert answer.json()["reward_id"] == reward_id and answer.json()["status"] == "REVOKED"
    assert lf.reward_of(server, referral_id)["status"] == "REVOKED"
    assert lf.referral_status(server, referral_id) == "REJECTED"
    assert lf.stats_of(server, referrer.id) == (1, 0, 0, 1)
    moves = lf.history(server, boss, reward_id)
    assert [(row["from"], row["to"]) for row in moves] == [(None, "PENDING"), ("PENDING", "REVOKED")]
    assert moves[1]["reason"] == "duplicate account" and moves[1]["actor_id"] == boss.id


def test_clawback_of_a_credited_reward(server, boss):
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.credit(server, boss, reward_id).status_code == 200
    assert lf.stats_of(server, referrer.id) == (1, 1, 0, 0)
    answer = lf.revoke(server, boss, reward_id, "chargeback")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "REVOKED"
    assert lf.referral_status(server, referral_id) == "REJECTED"
    assert lf.stats_of(server, referrer.id) == (1, 0, 0, 1)
    assert_error(lf.revoke(server, boss, reward_id, "again"), 409, "reward_already_revoked")
    moves = lf.history(server, boss, reward_id)
    assert set(moves[0]) == {"from", "to", "actor_id", "reason", "at"}
    assert [(row["from"], row["to"]) for row in moves] == [
        (None, "PENDING"), ("PENDING", "CREDITED"), ("CREDITED", "REVOKED")]
    assert moves[0]["actor_id"] == referee.id  # who applied the code
    assert [row["actor_id"] for row in moves[1:]] == [boss.id, boss.id]
    assert moves[2]["reason"] == "chargeback"
    assert all(row["reason"] for row in moves)
    assert all(lf.TIMESTAMP.fullmatch(row["at"]) for row in moves)
    assert [row["at"] for row in moves] == sorted(row["at"] for row in moves)


def test_revoke_twice_is_409_and_writes_no_second_row(server, boss):
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.revoke(server, boss, reward_id).status_code == 200
    again = lf.revoke(server, boss, reward_id, "once more")
    assert_error(again, 409, "reward_already_revoked")
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING", "REVOKED"]


def test_referee_beneficiary_gets_its_own_reward(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100, "POINTS")
    lf.config(server, boss, "SIGNUP", 500, "CASH", beneficiary="REFEREE")
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    mine = lf.reward_of(server, referral_id, "REFEREE")
    theirs = lf.reward_of(server, referral_id, "REFERRER")
    assert (mine["user_id"], mine["reward_value"], mine["reward_unit"]) == (referee.id, 500, "CASH")
    assert (theirs["user_id"], theirs["reward_value"], theirs["reward_unit"]) == (referrer.id, 100, "POINTS")
    assert [r["reward_id"] for r in lf.get(server, "/api/rewards/history", referee.headers).json()] == [mine["id"]]
    assert [r["reward_id"] for r in lf.get(server, "/api/rewards/history", referrer.headers).json()] == [
        theirs["id"]]
    # SUCCESS once any is credited; REJECTED only once all are revoked.
    assert lf.credit(server, boss, mine["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert lf.revoke(server, boss, theirs["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert lf.stats_of(server, referrer.id) == (1, 1, 0, 0)
    assert lf.revoke(server, boss, mine["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "REJECTED"
    assert lf.stats_of(server, referrer.id) == (1, 0, 0, 1)
    invariants.check_all(server)


def test_auto_credit_config_credits_at_apply_time(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100, auto_credit=True)
    referrer = lf.user(server)
    referrals = [lf.refer(server, referrer)[1] for _ in range(6)]
    for referral_id in referrals:
        reward = lf.reward_of(server, referral_id)
        assert reward["status"] == "CREDITED"
        assert lf.referral_status(server, referral_id) == "SUCCESS"
        # Creation and credit share a millisecond; the history still reads in order.
        moves = lf.history(server, boss, reward["id"])
        assert [(row["from"], row["to"]) for row in moves] == [(None, "PENDING"), ("PENDING", "CREDITED")]
        assert moves[1]["actor_id"] is None and moves[1]["reason"]
    assert lf.stats_of(server, referrer.id) == (6, 6, 0, 0)
    invariants.check_all(server)


def test_reward_history_pages_newest_first_and_filters_by_status(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 10)
    referrer = lf.user(server)
    referrals = [lf.refer(server, referrer)[1] for _ in range(7)]
    rewards = [lf.reward_of(server, referral_id)["id"] for referral_id in referrals]
    for reward_id in rewards[:3]:
        assert lf.credit(server, boss, reward_id).status_code == 200
    assert lf.revoke(server, boss, rewards[3]).status_code == 200

    everything = lf.get(server, "/api/rewards/history", referrer.headers)
    assert everything.status_code == 200 and "Link" not in everything.headers
    items = everything.json()
    assert [item["reward_id"] for item in items] == rewards[::-1]
    assert all(set(item) == REWARD_FIELDS for item in items), items[0]
    assert [item["created_at"] for item in items] == sorted((item["created_at"] for item in items), reverse=True)
    by_id = {item["reward_id"]: item for item in items}
    assert by_id[rewards[0]]["credited_at"] and by_id[rewards[0]]["revoked_at"] is None
    assert by_id[rewards[3]]["revoked_at"] and by_id[rewards[3]]["credited_at"] is None

    pages = lf.all_pages(server, "/api/rewards/history", referrer.headers, limit=2)
    assert [len(page) for page in pages if page] == [2, 2, 2, 1]
    visited = [item["reward_id"] for page in pages for item in page]
    assert visited == rewards[::-1]

    for status, expected in (("CREDITED", rewards[:3]), ("REVOKED", rewards[3:4]), ("PENDING", rewards[4:])):
        pages = lf.all_pages(server, "/api/rewards/history", referrer.headers, status=status, limit=2)
        listed = [item["reward_id"] for page in pages for item in page]
        assert listed == expected[::-1], status
        assert all(item["status"] == status for page in pages for item in page)
    assert_error(lf.get(server, "/api/rewards/history", referrer.headers, status="LOST"), 400,
                    "validation_error")
    legacy = lf.get(server, "/api/referrals/rewards/history", referrer.headers)
    assert legacy.status_code == 200 and legacy.json() == items

    # The admin sees the same ledger with its owner.
    admin_view = lf.get(server, "/api/admin/rewards", boss.headers, user_id=referrer.id, status="CREDITED").json()
    assert [item["reward_id"] for item in admin_view] == rewards[:3][::-1]
    assert all(item["user_id"] == referrer.id for item in admin_view)
    invariants.check_all(server)


def test_balance_sums_pending_and_credited_per_unit(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    referrer = lf.user(server)
    empty = lf.get(server, "/api/rewards/balance", referrer.headers)
    assert empty.status_code == 200
    assert empty.json() == {"POINTS": {"pending": 0, "credited": 0}, "CASH": {"pending": 0, "credited": 0}}
    lf.config(server, boss, "SIGNUP", 100, "POINTS")
    points = [lf.reward_of(server, lf.refer(server, referrer)[1])["id"] for _ in range(3)]
    lf.config(server, boss, "SIGNUP", 250, "CASH")
    cash = [lf.reward_of(server, lf.refer(server, referrer)[1])["id"] for _ in range(2)]
    assert lf.credit(server, boss, points[0]).status_code == 200
    assert lf.revoke(server, boss, points[1]).status_code == 200
    assert lf.credit(server, boss, cash[0]).status_code == 200
    assert lf.credit(server, boss, cash[1]).status_code == 200
    assert lf.revoke(server, boss, cash[1]).status_code == 200
    balance = lf.get(server, "/api/rewards/balance", referrer.headers).json()
    assert balance == {"POINTS": {"pending": 100, "credited": 100}, "CASH": {"pending": 0, "credited": 250}}
    assert_error(lf.get(server, "/api/rewards/balance"), 401, "missing_token")


def test_sums_of_huge_imported_values_saturate_instead_of_failing(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss)
    referrer = lf.user(server)
    rewards = [lf.reward_of(server, lf.refer(server, referrer)[1])["id"] for _ in range(5)]
    for reward_id in rewards[:3]:
        assert lf.credit(server, boss, reward_id).status_code == 200
    # As an import could have left them: three credited of 2^62 (their sum
    # passes 2^63-1), two pending of 4*10^18 (their sum fits exactly). Stats
    # read counters, so migration 0019 runs again to start them from these rows.
    for reward_id, value in zip(rewards, [2**62] * 3 + [4 * 10**18] * 2):
        server.query("UPDATE rewards SET reward_value = %s WHERE id = %s", (value, reward_id))
    assert server.stop() == 0
    server.query("DROP TABLE reward_counters")
    server.query("DELETE FROM schema_migrations WHERE version = 19")
    server = make_server(env=lf.env(), database_url=server.database_url)
    invariants.reward_counters_match_rewards(server)
    balance = lf.get(server, "/api/rewards/balance", referrer.headers)
    assert balance.status_code == 200, balance.text
    assert balance.json()["POINTS"] == {"pending": 8 * 10**18, "credited": INT64_MAX}
    stats = lf.get(server, "/api/admin/stats", boss.headers)
    assert stats.status_code == 200, stats.text
    by_status = stats.json()["rewards"]["by_unit"]["POINTS"]
    assert by_status["CREDITED"] == {"count": 3, "value": INT64_MAX}
    assert by_status["PENDING"] == {"count": 2, "value": 8 * 10**18}
    top = lf.get(server, "/api/admin/referral/top", boss.headers)
    assert top.status_code == 200 and top.json()[0]["successful_referrals"] == 3, top.text


def pending_reward(server) -> str:
    return lf.reward_of(server, lf.refer(server, lf.user(server))[1])["id"]


def test_reason_of_500_multibyte_code_points_is_accepted(server, boss):
    reward_id = pending_reward(server)
    reason = "é" * 250 + "😀" * 250  # 500 code points, 1,500 bytes
    answer = lf.revoke(server, boss, reward_id, reason)
    assert answer.status_code == 200, answer.text
    assert lf.history(server, boss, reward_id)[-1]["reason"] == reason


@pytest.mark.parametrize("reason", ["é" * 501, "   ", " \t\n"])
def test_reason_too_long_or_blank_is_400(server, boss, reason):
    reward_id = pending_reward(server)
    body = assert_error(lf.revoke(server, boss, reward_id, reason), 400, "validation_error")
    assert "reason" in body["error"], body
    assert server.query("SELECT status FROM rewards WHERE id = %s", (reward_id,)) == [("PENDING",)]
    assert len(lf.history(server, boss, reward_id)) == 1


def test_invariants_hold(server):
    invariants.check_all(server)
