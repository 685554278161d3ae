"""Runs a store-level gtest suite of build/<kind>/tests/unit_tests against a
fresh database of the engine under test (its PostgreSQL half needs a
REFERRALD_TEST_POSTGRES_URL, which only the API tests' fixtures provide)."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

import harness


def unit_tests_binary() -> pathlib.Path:
    # The unit tests are built next to the server binary (build/<kind>/tests/).
    return pathlib.Path(harness.binary()).parent / "tests" / "unit_tests"


def run_engine_suite(suite: str, backend: str, databases) -> None:
    """Runs gtest's `Engines/<suite>.*/<engine>` and asserts that it passed."""
    binary = unit_tests_binary()
    if not binary.exists():
        pytest.skip(f"{binary} not built")
    env = dict(os.environ)
    engine = "SQLite"
    if backend == "postgresql":
        env["REFERRALD_TEST_POSTGRES_URL"] = databases.new_url()
        engine = "PostgreSQL"
    result = subprocess.run([str(binary), f"--gtest_filter=Engines/{suite}.*/{engine}"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "[  PASSED  ]" in result.stdout
    assert "FAILED" not in result.stdout
