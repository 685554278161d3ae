"""Fixtures for the black-box API tests; see README.md in this folder.

  backend       "sqlite" or "postgresql" (REFERRALD_TEST_BACKEND)
  pg_cluster    the session's throwaway PostgreSQL (None on sqlite)
  databases     hands out a fresh database per server
  make_server   start(env=..., args=..., database_url=..., wait=..., files=...)
                -> harness.Server; every server is stopped at test end
  server        one default server shared by a test module
"""

from __future__ import annotations

import pytest

import harness


def pytest_report_header(config):
    return f"referrald: {harness.binary()}  backend: {harness.backend()}"


@pytest.fixture(scope="session")
def backend() -> str:
    return harness.backend()


@pytest.fixture(scope="session")
def pg_cluster(backend):
    if backend != "postgresql":
        yield None
        return
    cluster = harness.PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def databases(backend, pg_cluster, tmp_path_factory) -> harness.Databases:
    harness.binary()  # fail early and clearly when the binary is missing
    return harness.Databases(backend, pg_cluster, tmp_path_factory.mktemp("databases"))


@pytest.fixture
def make_server(databases, tmp_path):
    pool = harness.ServerPool(databases, tmp_path)
    try:
        yield pool.start
    finally:
        pool.close()


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> harness.Server:
    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("server"))
    try:
        yield pool.start()
    finally:
        pool.close()


@pytest.fixture
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only (REFERRALD_TEST_BACKEND=postgresql)")
