#!/usr/bin/python3
"""Prints the query plan and run time of every analytics query on a seeded
database (bench/seed), as Markdown for docs/PERFORMANCE.md.

  bench/explain_analytics.py sqlite:///tmp/big.db
  bench/explain_analytics.py postgresql://postgres@127.0.0.1:5432/referrald

The SQL mirrors src/analytics/analytics_store.cpp (keep them in step).
SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN (ANALYZE, COSTS OFF).
Parameters: the bench user (1,000 referrals over 90 days) and the busiest
referrer, whose list is read from a cursor deep into its referrals.
"""

from __future__ import annotations

import sqlite3
import sys
import time

SUMMARY = ("SELECT c.code, COALESCE(s.total, 0), COALESCE(s.successful, 0), COALESCE(s.pending, 0), "
           "COALESCE((SELECT t.clicks FROM link_totals t WHERE t.code_id = c.id), 0) "
           "FROM (SELECT CAST(%(user)s AS TEXT) AS id) u "
           "LEFT JOIN referral_codes c ON c.user_id = u.id "
           "LEFT JOIN referrer_stats s ON s.user_id = u.id")
LIST_FIRST = ("SELECT r.id, r.referee_id, r.referee_name, r.created_at, r.status FROM referrals r "
              "WHERE r.referrer_id = %(user)s "
              "ORDER BY r.created_at DESC, r.id DESC LIMIT 50")
LIST_AFTER = ("SELECT r.id, r.referee_id, r.referee_name, r.created_at, r.status FROM referrals r "
              "WHERE r.referrer_id = %(user)s "
              "AND (r.created_at, r.id) < (%(after_time)s, %(after_id)s) "
              "ORDER BY r.created_at DESC, r.id DESC LIMIT 50")
TIMELINE = ("SELECT created_at, CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END FROM referrals "
            "WHERE referrer_id = %(user)s AND created_at >= %(from_ms)s AND created_at < %(to_ms)s")
TOP = ("SELECT s.user_id, u.name, u.email, s.successful, s.total FROM referrer_stats s "
       "JOIN users u ON u.id = s.user_id ORDER BY s.successful DESC, s.total DESC, s.user_id LIMIT 10")
STATS = [  # counters (migrations 0018 and 0019): a few dozen rows each
    "SELECT name, CAST(SUM(value) AS BIGINT) FROM user_counters GROUP BY name",
    "SELECT name, CAST(SUM(value) AS BIGINT) FROM referral_counters GROUP BY name",
    "SELECT unit, status, CAST(SUM(rewards) AS BIGINT), CAST(SUM(value_high) AS BIGINT), "
    "CAST(SUM(value_low) AS BIGINT) FROM reward_counters GROUP BY unit, status",
]


class Db:
    def __init__(self, url: str):
        self.sqlite = url.startswith("sqlite://")
        if self.sqlite:
            self.conn = sqlite3.connect(url[len("sqlite://"):])
        else:
            import psycopg2

            self.conn = psycopg2.connect(url)
            self.conn.autocommit = True

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        cursor = self.conn.cursor()
        if self.sqlite:
            sql = sql.replace("%(", ":").replace(")s", "")
        cursor.execute(sql, params or {})
        return cursor.fetchall()

    def plan(self, sql: str, params: dict) -> tuple[list[str], float]:
        if self.sqlite:
            depth_of, lines = {0: -1}, []
            for node, parent, _, detail in self.rows("EXPLAIN QUERY PLAN " + sql, params):
                depth_of[node] = depth_of.get(parent, -1) + 1
                lines.append("  " * depth_of[node] + detail)
            start = time.perf_counter()
            self.rows(sql, params)
            return lines, (time.perf_counter() - start) * 1000
        lines = [row[0] for row in self.rows("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)]
        took = next(float(line.split()[2]) for line in lines if line.startswith("Execution Time"))
        return lines, took


def main() -> int:
    db = Db(sys.argv[1])
    bench = db.rows("SELECT id FROM users WHERE email = 'bench@seed.test'")[0][0]
    busiest = db.rows("SELECT user_id FROM referrer_stats ORDER BY total DESC LIMIT 1")[0][0]
    deep = db.rows("SELECT created_at, id FROM referrals WHERE referrer_id = %(user)s "
                   "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 1000", {"user": busiest})[0]
    now = int(time.time() * 1000)
    cases = [
        ("summary", SUMMARY, {"user": bench}),
        ("list, first page", LIST_FIRST, {"user": busiest}),
        ("list, page after 1,000 items", LIST_AFTER, {"user": busiest, "after_time": deep[0], "after_id": deep[1]}),
        ("timeline, 90 days (1,000 rows)", TIMELINE, {"user": bench, "from_ms": now - 90 * 86_400_000, "to_ms": now}),
        ("timeline, 366 days of the busiest referrer", TIMELINE,
         {"user": busiest, "from_ms": now - 366 * 86_400_000, "to_ms": now}),
        ("admin top", TOP, {}),
    ] + [(f"admin stats ({i + 1}/3)", sql, {}) for i, sql in enumerate(STATS)]
    for title, sql, params in cases:
        lines, took = db.plan(sql, params)
        print(f"**{title}** ({took:.2f} ms)\n\n```\n" + "\n".join(lines) + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
