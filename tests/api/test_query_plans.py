"""The hot paths read through indexes. Every plan PostgreSQL runs for the
server during the flows below is logged (auto_explain, JSON) and walked: no
table that grows with traffic may be read by a sequential scan, or by an
index scan whose condition does not bind the index's first column (that
reads the whole index: PostgreSQL checks a condition on a later column
entry by entry) unless a LIMIT stops it. Sequential scans are priced out (`enable_seqscan = off`), so a plan has
one only when no index can serve the statement: the test does not depend on
how small the tables are. Each statement is planned generically
(`plan_cache_mode`), as PostgreSQL plans a prepared statement from its sixth
run on: the plans a long-running server keeps, not the first runs' custom
ones.

Migration 0016 once made every apply scan all rewards (its unique index was
partial, so the reward lookup by referral had no usable index): 2,130
applies/s fell to 30 at 100k rewards, and only a benchmark on a quiet machine
showed it. This test fails on that schema (it was checked by dropping
rewards_by_referral). PostgreSQL only: SQLite's plans are not visible from
outside the process."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
import requests

import harness
import ledger_flows as lf

# Tables that grow with traffic. Small tables read whole (reward configs,
# milestones, webhook endpoints, counters) are not checked.
GROWING = {"users", "sessions", "referral_codes", "referrals", "rewards", "ledger_entries",
           "domain_events", "link_clicks", "link_attributions", "outbox", "idempotency_keys",
           "referrer_stats", "events", "otps", "webhook_deliveries", "link_totals"}
INDEX_SCANS = ("Index Scan", "Index Only Scan")


@pytest.fixture
def database_url(postgresql_only, databases) -> str:
    url = databases.new_url()
    name = url.rsplit("/", 1)[1]
    with contextlib.closing(databases.cluster.connect()) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            for setting, value in (("enable_seqscan", "off"), ("plan_cache_mode", "force_generic_plan"),
                                   ("session_preload_libraries", "auto_explain"),
                                   ("auto_explain.log_min_duration", "0"), ("auto_explain.log_format", "json")):
                cursor.execute(f'ALTER DATABASE "{name}" SET {setting} = \'{value}\'')
    return url


def leading_columns(database_url: str) -> dict[str, str]:
    """Each index's first column (expression indexes left out)."""
    rows = harness.query(database_url, "SELECT c.relname, a.attname FROM pg_index i "
                                       "JOIN pg_class c ON c.oid = i.indexrelid "
                                       "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]")
    return dict(rows)


def logged_plans(log_text: str) -> list[dict]:
    """The plans auto_explain wrote: a JSON object after each 'plan:'."""
    decoder = json.JSONDecoder()
    plans = []
    for part in log_text.split("plan:")[1:]:
        start = part.find("{")
        plans.append(decoder.raw_decode(part[start:])[0])
    return plans


def binds_leading_column(node: dict, leading: dict[str, str]) -> bool:
    column = leading.get(node["Index Name"])
    return column is None or re.search(rf"\b{column}\b", node.get("Index Cond", "")) is not None


def whole_table_reads(node: dict, leading: dict[str, str], limited: bool = False) -> list[str]:
    """Reads of a growing table that no index condition narrows, under `node`."""
    limited = limited or node["Node Type"] == "Limit"
    found = []
    table = node.get("Relation Name")
    if table in GROWING:
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif node["Node Type"] in INDEX_SCANS and not limited and not binds_leading_column(node, leading):
            found.append(f"{node['Node Type']} of all of {node['Index Name']} on {table}")
    for child in node.get("Plans", []):
        found += whole_table_reads(child, leading, limited)
    return found


def test_the_hot_paths_read_no_growing_table_whole(database_url, databases, make_server):
    server = make_server(env=lf.env(), database_url=database_url)
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "SIGNUP", 50, beneficiary="REFEREE")
    referrers = [lf.user(server) for _ in range(3)]
    referees = [lf.user(server) for _ in range(6)]
    codes = [lf.code_of(server, referrer) for referrer in referrers]
    log = databases.cluster.log
    start = log.stat().st_size

    referral_ids = [lf.apply(server, referee, codes[i % 3]).json()["referral_id"]
                    for i, referee in enumerate(referees)]
    rewards = [lf.reward_of(server, referral_id)["id"] for referral_id in referral_ids]
    assert lf.credit(server, boss, rewards[0]).status_code == 200
    assert lf.revoke(server, boss, rewards[1]).status_code == 200
    assert lf.event(server, boss, "order-1", user_id=referees[0].id).status_code == 201
    for referrer in referrers:
        for path in ("/api/referral/analytics/summary", "/api/referral/analytics/list",
                     "/api/referral/analytics/timeline", "/api/referral/analytics/funnel", "/api/referral/link",
                     "/api/rewards/history", "/api/rewards/balance"):
            assert lf.get(server, path, referrer.headers).status_code == 200, path
        assert lf.post(server, "/api/auth/verify-session", referrer.headers).status_code == 200
    for path in ("/api/admin/referral/top", "/api/admin/stats", "/api/admin/rewards", "/api/admin/funnel",
                 "/api/admin/referrals/flagged", "/api/admin/ledger/head"):
        assert lf.get(server, path, boss.headers).status_code == 200, path
    assert requests.get(server.url(f"/r/{codes[0]}"), allow_redirects=False, timeout=10).status_code == 302

    with open(log, encoding="utf-8", errors="replace") as text:
        text.seek(start)
        plans = logged_plans(text.read())
    assert len(plans) > 50, "auto_explain logged too few plans: is it loaded?"
    generic = [plan for plan in plans if "$1" in json.dumps(plan["Plan"])]
    assert len(generic) > 25, "the plans were not generic: a custom plan has the values in place of $1"
    leading = leading_columns(database_url)
    whole = {f"{read}: {plan['Query Text'].strip()[:160]}" for plan in plans
             for read in whole_table_reads(plan["Plan"], leading)}
    assert not whole, "\n".join(sorted(whole))
