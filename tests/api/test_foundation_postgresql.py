"""PostgreSQL only: racing migrations and a database outage (503
with Retry-After while the database is unreachable, recovery without restart)."""

from __future__ import annotations

import contextlib
import subprocess
import time

import pytest
import requests

import harness
from checks import assert_error

pytestmark = pytest.mark.usefixtures("postgresql_only")


def start_migrations(url: str, cwd, count: int = 2) -> list[subprocess.Popen]:
    env = harness.server_env({"DATABASE_URL": url})
    return [subprocess.Popen([harness.binary(), "migrate"], env=env, cwd=cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for _ in range(count)]


def assert_migrated_once_each(url: str, racers: list[subprocess.Popen]) -> None:
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    for racer, output in zip(racers, outputs):
        assert racer.returncode == 0, output
    rows = harness.query(url, "SELECT version, COUNT(*) FROM schema_migrations GROUP BY version")
    assert {version for version, _ in rows} == harness.migration_versions()
    assert all(count == 1 for _, count in rows), rows
    applied = sum(output.count("applied migration ") for output in outputs)
    assert applied == len(harness.migration_versions()), outputs


def test_two_migrate_processes_at_once_both_succeed(pg_cluster, tmp_path):
    # The losing CREATE TABLE fails in one of two ways depending on timing;
    # a handful of rounds meets both often enough to notice a regression.
    for _ in range(8):
        url = pg_cluster.create_database()
        assert_migrated_once_each(url, start_migrations(url, tmp_path))


def test_two_migrate_processes_forced_into_the_same_moment(pg_cluster, tmp_path):
    # An uncommitted CREATE TABLE of the same name holds both processes at
    # the catalog insert; rolling it back releases them together.
    url = pg_cluster.create_database()
    with contextlib.closing(harness.connect_db(url)) as blocker:
        blocker.autocommit = False
        with blocker.cursor() as cursor:
            cursor.execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY)")
        racers = start_migrations(url, tmp_path)
        waiting, deadline = 0, time.monotonic() + 20
        while waiting < 2 and time.monotonic() < deadline:
            waiting = harness.query(url, "SELECT COUNT(*) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND wait_event_type = 'Lock'")[0][0]
            time.sleep(0.02)
        assert waiting == 2, "the migrate processes never reached CREATE TABLE"
        blocker.rollback()
    assert_migrated_once_each(url, racers)


def test_readyz_follows_a_database_outage_and_recovery(make_server):
    cluster = harness.PostgresCluster()  # its own: stopping it hurts no other test
    try:
        server = make_server(database_url=cluster.create_database())
        assert requests.get(server.url("/readyz"), timeout=10).status_code == 200

        cluster.stop("fast")
        started = time.monotonic()
        response = requests.get(server.url("/readyz"), timeout=10)
        elapsed = time.monotonic() - started
        assert_error(response, 503, "database_unavailable")
        assert response.headers.get("Retry-After", "").isdigit()
        assert elapsed < 5, f"/readyz took {elapsed:.1f}s during the outage"
        # Still quick on the next try (no connection attempt that hangs).
        started = time.monotonic()
        assert requests.get(server.url("/readyz"), timeout=10).status_code == 503
        assert time.monotonic() - started < 5
        assert requests.get(server.url("/healthz"), timeout=10).status_code == 200

        cluster.start()
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            status = requests.get(server.url("/readyz"), timeout=10).status_code
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, "referrald did not recover after PostgreSQL came back"
        assert server.alive()
    finally:
        cluster.destroy()
