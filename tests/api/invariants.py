"""The ledger's invariants (docs/API.md, Referrals and Rewards), checked in
SQL on either engine.

`check_all(server)` asserts every one of them and says which rows break it;
the race tests call it after each storm, the other tests after their flows.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import harness

sys.path.insert(0, str(harness.REPO / "scripts"))
import ledger_verify  # noqa: E402  (scripts/ is not a package)

# The only status moves docs/API.md allows; None is the reward's creation.
ALLOWED_MOVES = {(None, "PENDING"), ("PENDING", "CREDITED"), ("PENDING", "REVOKED"), ("CREDITED", "REVOKED")}


def stats_match_referrals(server) -> None:
    """referrer_stats holds, per referrer, the COUNT(*) of its referrals per status."""
    counted = defaultdict(lambda: [0, 0, 0, 0])
    for referrer_id, status, count in server.query(
            "SELECT referrer_id, status, COUNT(*) FROM referrals GROUP BY referrer_id, status"):
        column = {"SUCCESS": 1, "PENDING": 2, "REJECTED": 3}[status]
        counted[referrer_id][0] += count
        counted[referrer_id][column] += count
    stored = {row[0]: list(row[1:]) for row in server.query(
        "SELECT user_id, total, successful, pending, rejected FROM referrer_stats")}
    for referrer_id in set(counted) | set(stored):
        expected = counted.get(referrer_id, [0, 0, 0, 0])
        assert stored.get(referrer_id, [0, 0, 0, 0]) == expected, (
            f"referrer_stats of {referrer_id} is {stored.get(referrer_id)} (total, successful, pending, "
            f"rejected) but its referrals count {expected}")


def code_uses_match_referrals(server) -> None:
    wrong = server.query(
        "SELECT c.id, c.uses, COUNT(r.id) FROM referral_codes c LEFT JOIN referrals r ON r.code_id = c.id "
        "GROUP BY c.id, c.uses HAVING c.uses <> COUNT(r.id)")
    assert not wrong, f"referral_codes.uses differs from its referrals (id, uses, referrals): {wrong}"


def one_referral_per_referee(server) -> None:
    twice = server.query("SELECT referee_id, COUNT(*) FROM referrals GROUP BY referee_id HAVING COUNT(*) > 1")
    assert not twice, f"users referred more than once: {twice}"


def one_code_per_user(server) -> None:
    twice = server.query("SELECT user_id, COUNT(*) FROM referral_codes GROUP BY user_id HAVING COUNT(*) > 1")
    assert not twice, f"users with several codes: {twice}"


def alias_texts_are_not_codes(server) -> None:
    # Each text leads to one code: an alias never repeats a code's text.
    clash = server.query("SELECT a.code FROM referral_code_aliases a JOIN referral_codes c ON c.code = a.code")
    assert not clash, f"texts that are a code and an alias: {clash}"


def no_duplicate_rewards(server) -> None:
    """SIGNUP and FIRST_ORDER: one per (referral, user, type); PURCHASE: one per
    (event, beneficiary); MILESTONE: one per (milestone, user)."""
    twice = server.query("SELECT referral_id, user_id, reward_type, COUNT(*) FROM rewards "
                         "WHERE reward_type IN ('SIGNUP', 'FIRST_ORDER') "
                         "GROUP BY referral_id, user_id, reward_type HAVING COUNT(*) > 1")
    assert not twice, f"duplicate rewards: {twice}"
    twice = server.query("SELECT event_id, beneficiary, COUNT(*) FROM rewards WHERE reward_type = 'PURCHASE' "
                         "GROUP BY event_id, beneficiary HAVING COUNT(*) > 1")
    assert not twice, f"duplicate PURCHASE rewards: {twice}"
    twice = server.query("SELECT milestone_id, user_id, COUNT(*) FROM rewards WHERE reward_type = 'MILESTONE' "
                         "GROUP BY milestone_id, user_id HAVING COUNT(*) > 1")
    assert not twice, f"duplicate MILESTONE rewards: {twice}"


def budgets_hold(server) -> None:
    """A config's budget_used is the value of its rewards not revoked, never above its budget."""
    wrong = server.query(
        "SELECT c.id, c.budget, c.budget_used, (SELECT COALESCE(SUM(r.reward_value), 0) FROM rewards r "
        "WHERE r.config_id = c.id AND r.status <> 'REVOKED') AS live FROM reward_configs c "
        "WHERE c.budget IS NOT NULL")
    for config_id, budget, used, live in wrong:
        assert used == live and used <= budget, f"config {config_id}: budget {budget}, used {used}, live {live}"


def caps_hold(server) -> None:
    """No beneficiary has more rewards of a config than its cap, and the counter counts them."""
    over = server.query(
        "SELECT c.id, r.user_id, COUNT(*) FROM reward_configs c JOIN rewards r ON r.config_id = c.id "
        "WHERE c.max_rewards_per_referrer IS NOT NULL GROUP BY c.id, r.user_id, c.max_rewards_per_referrer "
        "HAVING COUNT(*) > c.max_rewards_per_referrer")
    assert not over, f"rewards beyond the cap: {over}"
    off = server.query(
        "SELECT n.config_id, n.user_id, n.rewards, (SELECT COUNT(*) FROM rewards r WHERE r.config_id = n.config_id "
        "AND r.user_id = n.user_id) FROM reward_config_counts n")
    wrong = [row for row in off if row[2] != row[3]]
    assert not wrong, f"cap counters that disagree with the rewards: {wrong}"


def history_explains_every_status(server) -> None:
    """Each reward's history is one chain None -> PENDING -> ... ending at its
    status, made only of allowed moves: every move has its row, and no row
    tells of a move that did not happen. Rows written in the same millisecond
    have no order of their own, so the chain is followed by from -> to."""
    moves = defaultdict(list)
    for reward_id, from_status, to_status in server.query(
            "SELECT reward_id, from_status, to_status FROM reward_events"):
        moves[reward_id].append((from_status, to_status))
    for reward_id, status, credited_at, revoked_at in server.query(
            "SELECT id, status, credited_at, revoked_at FROM rewards"):
        rows = moves.pop(reward_id, [])
        bad = [move for move in rows if move not in ALLOWED_MOVES]
        assert not bad, f"reward {reward_id} has forbidden moves {bad}"
        chain, at = [], None
        by_from = {move[0]: move for move in rows}
        assert len(by_from) == len(rows), f"reward {reward_id} left one status twice: {rows}"
        while at in by_from:
            chain.append(by_from[at])
            at = by_from[at][1]
        assert len(chain) == len(rows) and at == status, (
            f"reward {reward_id} is {status} but its history is {rows}")
        assert (credited_at is not None) == any(to == "CREDITED" for _, to in rows), (
            f"reward {reward_id}: credited_at {credited_at} against history {rows}")
        assert (revoked_at is not None) == (status == "REVOKED"), (
            f"reward {reward_id}: revoked_at {revoked_at} with status {status}")
    assert not moves, f"history rows of rewards that do not exist: {dict(moves)}"


def expected_referral_status(reward_statuses: list[str], current: str) -> str:
    if not reward_statuses:
        return current
    if "CREDITED" in reward_statuses:
        return "SUCCESS"
    if all(status == "REVOKED" for status in reward_statuses):
        return "REJECTED"
    return "PENDING"


def referral_status_follows_rewards(server) -> None:
    """SUCCESS once any reward is credited, REJECTED once all are revoked."""
    rewards = defaultdict(list)
    # A MILESTONE reward rewards the referrer's record, not the referral it hangs on.
    for referral_id, status in server.query("SELECT referral_id, status FROM rewards "
                                            "WHERE reward_type <> 'MILESTONE'"):
        rewards[referral_id].append(status)
    for referral_id, status, flags in server.query("SELECT id, status, flags FROM referrals"):
        # Only a cap or a budget stops a referral's SIGNUP reward (docs/API.md, Reward rules).
        limited = flags and ("cap_reached" in flags or "budget_exhausted" in flags)
        assert rewards[referral_id] or limited, f"referral {referral_id} has no reward"
        expected = expected_referral_status(rewards[referral_id], status)
        assert status == expected, (
            f"referral {referral_id} is {status} with rewards {rewards[referral_id]}; expected {expected}")


def one_active_config_per_kind(server) -> None:
    twice = server.query("SELECT reward_type, beneficiary, COUNT(*) FROM reward_configs WHERE is_active = 1 "
                         "GROUP BY reward_type, beneficiary HAVING COUNT(*) > 1")
    assert not twice, f"several active configs: {twice}"


def flagged_means_flags(server) -> None:
    wrong = server.query("SELECT id, is_flagged, flags FROM referrals WHERE "
                         "(is_flagged = 1 AND (flags IS NULL OR flags = '')) OR "
                         "(is_flagged = 0 AND flags IS NOT NULL AND flags <> '')")
    assert not wrong, f"is_flagged disagrees with flags: {wrong}"


def referee_name_is_the_users(server) -> None:
    wrong = server.query("SELECT r.id, r.referee_name, u.name FROM referrals r JOIN users u ON u.id = r.referee_id "
                         "WHERE r.referee_name <> u.name")
    assert not wrong, f"referrals.referee_name differs from the referee's name: {wrong[:5]}"


def referral_cycles(server) -> list[tuple]:
    """Users who are their own referrer at some depth. UNION drops pairs
    already reached, so the walk ends on a graph that holds a cycle."""
    return server.query(
        "WITH RECURSIVE up (start_id, ancestor_id) AS ("
        " SELECT referee_id, referrer_id FROM referrals"
        " UNION SELECT up.start_id, r.referrer_id FROM up JOIN referrals r ON r.referee_id = up.ancestor_id)"
        " SELECT start_id FROM up WHERE start_id = ancestor_id ORDER BY start_id")


def no_referral_cycles(server) -> None:
    cycles = referral_cycles(server)
    assert not cycles, f"users in a referral cycle: {cycles}"


def ledger_chain_verifies(server) -> None:
    """Gap-free sequence from 1, each entry's prev_hash the hash before it,
    each hash the SHA-256 of its canonical bytes (scripts/ledger_verify.py),
    and the head row naming the last entry."""
    columns = ("seq", "kind", "reward_id", "user_id", "amount", "unit", "actor", "reason", "at_ms", "prev_hash",
               "hash")
    entries = [dict(zip(columns, row)) for row in server.query(
        "SELECT seq, kind, reward_id, user_id, amount, unit, actor, reason, at, prev_hash, hash "
        "FROM ledger_entries ORDER BY seq")]
    ok, seq, detail = ledger_verify.verify(entries)
    assert ok, f"the ledger breaks at seq {seq}: {detail}"
    assert server.query("SELECT seq, hash FROM ledger_head") == [(seq, detail)], "ledger_head is not the last entry"
    if entries:
        assert server.query("SELECT prev_hash FROM ledger_head") == [(entries[-1]["prev_hash"],)], \
            "ledger_head's prev_hash is not the last entry's"


# Each counter table (migrations/0018_counters.sql) against the COUNT(*) it
# stands for: name -> SQL of that count.
COUNTED = {
    "user_counters": {"users": "SELECT COUNT(*) FROM users",
                      "verified": "SELECT COUNT(*) FROM users WHERE is_verified = 1"},
    "referral_counters": {status: f"SELECT COUNT(*) FROM referrals WHERE status = '{status}'"
                          for status in ("PENDING", "SUCCESS", "REJECTED")},
    "outbox_counters": {"depth": "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"},
}


def counters_match_rows(server) -> None:
    """Every counter (the sum of its shards) equals the rows it counts. One
    statement per counter, so both come from one snapshot while the server
    runs (its mail sender moves outbox rows at any moment)."""
    for table, counts in COUNTED.items():
        for name, sql in counts.items():
            kept, actual = server.query(f"SELECT (SELECT COALESCE(CAST(SUM(value) AS BIGINT), 0) FROM {table} "
                                        f"WHERE name = '{name}'), ({sql})")[0]
            assert kept == actual, f"{table} '{name}' is {kept} but {actual} rows count"
    reward_counters_match_rewards(server)


def reward_counters_match_rewards(server) -> None:
    """reward_counters (migration 0019) hold, per unit and status, the count of
    the rewards and their value as two exact partial sums (of value / 2^32 and
    value % 2^32): the counters minus a GROUP BY over rewards, in one
    statement (one snapshot), must leave nothing."""
    off = server.query(
        "SELECT unit, status, SUM(rewards), SUM(value_high), SUM(value_low) FROM ("
        " SELECT unit, status, rewards, value_high, value_low FROM reward_counters"
        " UNION ALL SELECT reward_unit, status, -COUNT(*), -SUM(reward_value / 4294967296),"
        " -SUM(reward_value - reward_value / 4294967296 * 4294967296) FROM rewards"  # % is psycopg's
        " GROUP BY reward_unit, status) AS both_sides "
        "GROUP BY unit, status HAVING SUM(rewards) <> 0 OR SUM(value_high) <> 0 OR SUM(value_low) <> 0")
    assert not off, f"reward_counters minus the rewards (unit, status, count, high, low): {off}"


ALL = (stats_match_referrals, code_uses_match_referrals, one_referral_per_referee, one_code_per_user,
       alias_texts_are_not_codes, no_duplicate_rewards, history_explains_every_status, referral_status_follows_rewards,
       one_active_config_per_kind, flagged_means_flags, referee_name_is_the_users, no_referral_cycles,
       ledger_chain_verifies, counters_match_rows, budgets_hold, caps_hold)


def check_all(server, skip: tuple = ()) -> None:
    for check in ALL:
        if check not in skip:
            check(server)
