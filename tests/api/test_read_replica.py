"""DATABASE_READ_URL: analytics reads go to it, everything else stays on the
primary (issue 8's first step; the streaming-replica cluster test comes later)."""

from __future__ import annotations

import requests

import flows
import harness
from checks import assert_error


def summary(server, headers) -> requests.Response:
    return requests.get(server.url("/api/referral/analytics/summary"), headers=headers, timeout=30)


def test_analytics_read_from_the_read_url(make_server, postgresql_only):
    primary = make_server(env={"RATE_LIMIT_PER_IP": "0"})
    email, headers = flows.new_user(primary)
    primary.stop()
    # The same database as a "replica": analytics answer from it.
    same = make_server(env={"DATABASE_READ_URL": primary.database_url}, database_url=primary.database_url)
    assert summary(same, headers).status_code == 200
    same.stop()
    # A read URL nobody answers: analytics fail, the primary paths do not.
    dead = f"postgresql://postgres@127.0.0.1:{harness.free_port()}/nowhere"
    split = make_server(env={"DATABASE_READ_URL": dead}, database_url=primary.database_url)
    answer = summary(split, headers)
    assert_error(answer, 503, "database_unavailable")
    assert requests.post(split.url("/api/auth/verify-session"), headers=headers, timeout=30).status_code == 200
    assert requests.post(split.url("/api/referral/generate"), headers=headers, timeout=30).status_code == 201


def test_a_replica_behind_a_migration_answers_503_not_500(make_server, postgresql_only):
    # Issue 12: while the replica has not replayed a migration yet, a
    # statement naming a new table or column failed there with SQLSTATE
    # 42P01/42703 and analytics answered 500. The replica is simulated by a
    # search_path onto a schema holding yesterday's tables.
    primary = make_server(env={"RATE_LIMIT_PER_IP": "0"})
    _, headers = flows.new_user(primary)
    primary.query("CREATE SCHEMA no_tables_yet")
    primary.query("CREATE SCHEMA column_missing")
    for table in ("users", "referral_codes"):
        primary.query(f"CREATE TABLE column_missing.{table} AS SELECT * FROM public.{table}")
    primary.query("CREATE TABLE column_missing.referrer_stats AS SELECT user_id, total, successful "
                  "FROM public.referrer_stats")
    for schema in ("no_tables_yet", "column_missing"):
        lagging = f"{primary.database_url}?options=-csearch_path%3D{schema}"
        split = make_server(env={"DATABASE_READ_URL": lagging}, database_url=primary.database_url)
        answer = summary(split, headers)
        assert_error(answer, 503, "database_unavailable")
        assert answer.headers.get("Retry-After"), answer.headers
        assert requests.post(split.url("/api/referral/generate"), headers=headers, timeout=30).status_code in (200, 201)
        split.stop()
    assert summary(primary, headers).status_code == 200
