"""Migration 0016 (reward rules) on a database made by the migrations before it
(the rows written before the ledger's 0015, so that the ledger holds them as an
upgraded database does): rewards, their ledger entries, configs and events
survive the table rebuilds, the old keys still hold, and the rows work through
the API."""

from __future__ import annotations

import contextlib
import re

import pytest

import flows
import harness
import invariants
import ledger_flows as lf
from old_schema import statements

LEDGER_MIGRATION = 15
RULES_MIGRATION = 16
NOW = 1_700_000_000_000


def migrate(database_url: str, below: int, start: int = 0) -> None:
    """Applies the migration files numbered start <= n < below, as the server would."""
    engine = "sqlite" if database_url.startswith("sqlite://") else "postgresql"
    with contextlib.closing(harness.connect_db(database_url)) as conn:
        cursor = conn.cursor()
        cursor.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                       "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
        for path in sorted((harness.REPO / "migrations").glob("*.sql")):
            version = int(path.name.split("_", 1)[0])
            if not start <= version < below:
                continue
            for statement in statements(path.read_text(encoding="utf-8"), engine):
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO schema_migrations VALUES ({version}, '{path.name}', {NOW})")


def seed(database_url: str) -> None:
    rows = [
        "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, created_at) VALUES "
        "('u-referrer', 'Referrer', 'referrer@example.com', 'referrer@example.com', 'x', 1, {now})",
        "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, created_at) VALUES "
        "('u-referee', 'Referee', 'referee@example.com', 'referee@example.com', 'x', 1, {now})",
        "INSERT INTO referral_codes (id, user_id, code, uses, created_at) VALUES ('c-1', 'u-referrer', 'REFOLD1', 1, "
        "{now})",
        "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, updated_at, referee_name) "
        "VALUES ('r-1', 'u-referee', 'u-referrer', 'c-1', 'PENDING', {now}, {now}, 'Referee')",
        "INSERT INTO referrer_stats (user_id, total, successful, pending, rejected) VALUES ('u-referrer', 1, 0, 1, 0)",
        "INSERT INTO reward_configs (id, reward_type, reward_value, reward_unit, beneficiary, auto_credit, is_active, "
        "created_at) VALUES ('cfg-1', 'SIGNUP', 100, 'POINTS', 'REFERRER', 0, 1, {now})",
        "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, "
        "config_id, created_at) VALUES ('w-1', 'r-1', 'u-referrer', 'REFERRER', 'SIGNUP', 100, 'POINTS', 'PENDING', "
        "'cfg-1', {now})",
        "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, "
        "created_at) VALUES ('w-2', 'r-1', 'u-referee', 'REFEREE', 'FIRST_ORDER', 0, 'CASH', 'PENDING', {now})",
        "INSERT INTO reward_events (id, reward_id, from_status, to_status, actor_id, reason, at) VALUES "
        "('h-1', 'w-1', NULL, 'PENDING', 'u-referee', 'SIGNUP reward created', {now})",
        "INSERT INTO reward_events (id, reward_id, from_status, to_status, actor_id, reason, at) VALUES "
        "('h-2', 'w-2', NULL, 'PENDING', NULL, 'imported', {now})",
        "INSERT INTO events (id, type, external_id, user_id, result, created_at) VALUES "
        "('e-1', 'FIRST_ORDER', 'order-1', 'u-referee', '{{}}', {now})",
    ]
    for row in rows:
        harness.query(database_url, row.format(now=NOW))


@pytest.fixture
def upgraded(databases, make_server):
    url = databases.new_url()
    migrate(url, below=LEDGER_MIGRATION)
    seed(url)
    migrate(url, below=RULES_MIGRATION, start=LEDGER_MIGRATION)
    return make_server(env=lf.env(), database_url=url)


def test_old_rewards_history_and_events_survive_the_rebuild(upgraded):
    server = upgraded
    assert {row[0] for row in server.query("SELECT version FROM schema_migrations")} >= {RULES_MIGRATION}
    assert server.query("SELECT id, status, reward_value, available_at, config_id FROM rewards ORDER BY id") == [
        ("w-1", "PENDING", 100, None, "cfg-1"), ("w-2", "PENDING", 0, None, None)]
    assert server.query("SELECT reward_id, kind, amount, reason FROM ledger_entries ORDER BY reward_id") == [
        ("w-1", "created", 100, "SIGNUP reward created"), ("w-2", "created", 0, "imported")]
    assert server.query("SELECT id, type, external_id, amount, currency FROM events") == [
        ("e-1", "FIRST_ORDER", "order-1", None, None)]
    assert server.query("SELECT id, hold_days, budget, budget_used, percent_of_amount FROM reward_configs") == [
        ("cfg-1", 0, None, 0, None)]
    if server.database_url.startswith("sqlite://"):
        assert server.query("PRAGMA foreign_key_check") == []
        # The ledger still points at rewards, and the rebuilt table refuses what 0015's triggers refused.
        schema = server.query("SELECT sql FROM sqlite_master WHERE name = 'ledger_entries'")[0][0]
        assert re.search(r'REFERENCES "?rewards"? ?\(id\)', schema), schema
    with pytest.raises(Exception, match="(?i)check"):
        server.query("UPDATE rewards SET status = 'PAID' WHERE id = 'w-2'")


def test_old_rows_keep_working_and_keep_their_keys(upgraded):
    server = upgraded
    boss = lf.admin(server)
    assert lf.credit(server, boss, "w-1").status_code == 200
    assert [row["to"] for row in lf.history(server, boss, "w-1")] == ["PENDING", "CREDITED"]
    assert lf.referral_status(server, "r-1") == "SUCCESS"
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        server.query("INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, "
                     "reward_unit, status, created_at) VALUES ('w-3', 'r-1', 'u-referee', 'REFEREE', 'FIRST_ORDER', "
                     "5, 'CASH', 'PENDING', 1)")
    invariants.check_all(server)
    verdict = flows.cli(server, "ledger", "verify")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
