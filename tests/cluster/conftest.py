"""Fixtures for the cluster tests (issue 8); README.md in this folder says what runs.

  primary        the session's throwaway PostgreSQL 15 (tests/api/harness.py)
  replica        a streaming hot standby of it
  bouncer        PgBouncer in transaction mode in front of the primary
  make_cluster   start(env=..., database_url=..., simultaneous=...) -> cluster.Front:
                 two referrald instances on one fresh primary database (their
                 analytics on the replica) behind one nginx; all stopped at test end.
                 Front.spawn() starts one more instance of the same cluster.
                 Every test runs twice: the instances reach the primary directly,
                 then through PgBouncer (DATABASE_PREPARED_STATEMENTS=false, the
                 session listener on the primary itself: DATABASE_LISTEN_URL).
"""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "api"))

import cluster  # noqa: E402  (needs the path above)
import harness  # noqa: E402
import ledger_flows as lf  # noqa: E402

INSTANCES = 2


def pytest_report_header(config):
    return f"referrald: {harness.binary()}  nginx: {cluster.NGINX}"


def destroyed_after(cluster_: harness.PostgresCluster):
    """Fixture body: yields the cluster, removes it at the end of the scope."""
    try:
        yield cluster_
    finally:
        cluster_.destroy()


@pytest.fixture(scope="session")
def primary():
    harness.binary()  # fail early and clearly when the binary is missing
    yield from destroyed_after(harness.PostgresCluster())


@pytest.fixture(scope="session")
def replica(primary):
    yield from destroyed_after(cluster.StreamingReplica(primary))


@pytest.fixture(scope="session")
def bouncer(primary):
    pooler = cluster.PgBouncer(primary)
    try:
        yield pooler
    finally:
        pooler.stop()


@pytest.fixture(scope="session")
def databases(primary, tmp_path_factory) -> harness.Databases:
    return harness.Databases("postgresql", primary, tmp_path_factory.mktemp("databases"))


def instance_env(replica: cluster.StreamingReplica, database_url: str, overrides: dict) -> dict:
    """Per-IP limits and the same-IP flag off (every test client is 127.0.0.1),
    nginx trusted for X-Forwarded-For, analytics on the replica's copy of the database."""
    database = database_url.rsplit("/", 1)[1]
    return lf.env(TRUSTED_PROXIES="127.0.0.1", DATABASE_READ_URL=replica.url(database), **overrides)


def pooled(bouncer: cluster.PgBouncer, database_url: str, settings: dict) -> tuple[str, dict]:
    """The instances' DATABASE_URL and settings through PgBouncer (docs/OPERATIONS.md)."""
    return bouncer.url(database_url), {**settings, "DATABASE_PREPARED_STATEMENTS": "false",
                                       "DATABASE_LISTEN_URL": database_url}


@pytest.fixture(params=["direct", "pgbouncer"])
def make_cluster(request, databases, replica, tmp_path):
    pool = harness.ServerPool(databases, tmp_path)
    proxies: list[cluster.Nginx] = []
    bouncer = request.getfixturevalue("bouncer") if request.param == "pgbouncer" else None

    def start(env: dict | None = None, database_url: str | None = None,
              simultaneous: bool = False) -> cluster.Front:
        url = database_url or databases.new_url()
        settings = instance_env(replica, url, env or {})
        if bouncer:
            url, settings = pooled(bouncer, url, settings)
        instances = [pool.start(env=settings, database_url=url, wait=not simultaneous)
                     for _ in range(INSTANCES)]
        if simultaneous:
            for instance in instances:
                instance.wait_listening()
        # Until the replica has replayed CREATE DATABASE and the migrations,
        # analytics fail there (no such database, then no such table).
        replica.wait_replayed()
        proxies.append(cluster.Nginx([instance.port for instance in instances]))
        return cluster.Front(proxies[-1], instances,
                             spawn=lambda: pool.start(env=settings, database_url=url))

    try:
        yield start
    finally:
        for proxy in proxies:
            proxy.stop()
        pool.close()
