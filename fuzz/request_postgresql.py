#!/usr/bin/env python3
"""Runs request_fuzz against PostgreSQL instead of SQLite: a throwaway
PostgreSQL 15 cluster (tests/api/harness.py's PostgresCluster), one fresh
database, and scripts/fuzz.sh with REQUEST_FUZZ_DATABASE_URL naming it.
PostgreSQL refuses text that SQLite stores (invalid UTF-8, NUL), so this
finds 500s the SQLite run cannot.

Usage: fuzz/request_postgresql.py BUILD_DIR SECONDS   (from the checkout)
"""
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "api"))
from harness import PostgresCluster  # noqa: E402  (needs the path above)


def main() -> int:
    build, seconds = sys.argv[1], sys.argv[2]
    cluster = PostgresCluster()
    try:
        env = {**os.environ, "REQUEST_FUZZ_DATABASE_URL": cluster.create_database()}
        return subprocess.run([str(REPO / "scripts" / "fuzz.sh"), build, seconds, "request"], env=env,
                              check=False).returncode
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
