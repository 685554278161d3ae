"""The event spine (src/events/): domain_events written in the transaction of
the change, consumers with cursors. docs/ARCHITECTURE.md, "The event spine"."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
import requests

import harness


def unit_tests_binary() -> pathlib.Path:
    # The unit tests are built next to the server binary (build/<kind>/tests/).
    return pathlib.Path(harness.binary()).parent / "tests" / "unit_tests"


def test_event_log_store_tests_pass_on_this_engine(backend, databases):
    """The store-level tests of tests/unit/events_log_test.cpp, among them two
    transactions committing out of seq order, need a PostgreSQL to show the
    PostgreSQL half: run them here against a fresh database of this engine."""
    binary = unit_tests_binary()
    if not binary.exists():
        pytest.skip(f"{binary} not built")
    env = dict(os.environ)
    engine = "SQLite"
    if backend == "postgresql":
        env["REFERRALD_TEST_POSTGRES_URL"] = databases.new_url()
        engine = "PostgreSQL"
    result = subprocess.run([str(binary), f"--gtest_filter=Engines/EventLog.*/{engine}"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "[  PASSED  ]" in result.stdout
    assert "FAILED" not in result.stdout


def insert_event(server, aggregate_id: str) -> int:
    server.query("INSERT INTO domain_events (id, type, aggregate_id, data_json, created_at)"
                 " VALUES (%s, 'referral.created', %s, '{}', 0)", (f"evt_{aggregate_id}", aggregate_id))
    return server.query("SELECT seq FROM domain_events WHERE aggregate_id = %s", (aggregate_id,))[0][0]


def test_metrics_show_each_consumers_backlog(make_server):
    server = make_server()
    first = insert_event(server, "metrics-a")
    insert_event(server, "metrics-b")
    last = insert_event(server, "metrics-c")
    server.query("INSERT INTO event_cursors (consumer, last_xid, last_seq) VALUES ('behind', 0, %s)", (first,))
    server.query("INSERT INTO event_cursors (consumer, last_xid, last_seq) VALUES ('current', 0, %s)", (last,))
    text = requests.get(server.url("/metrics"), timeout=10).text
    assert "# TYPE referrald_events_backlog gauge" in text
    assert 'referrald_events_backlog{consumer="behind"} 2\n' in text
    assert 'referrald_events_backlog{consumer="current"} 0\n' in text
