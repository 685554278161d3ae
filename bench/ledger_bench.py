#!/usr/bin/python3
"""The ledger at scale (docs/PERFORMANCE.md, "The ledger"): seeds a data set
with referrald-seed, chains its rewards into the ledger the way an upgrade
does (staged rows hashed by `referrald migrate`), then times `referrald
ledger verify` and the payout export (rows per second, the server's RSS
growth while it streams).

    bench/ledger_bench.py [--backend sqlite|postgresql] [--referrals 1000000] [--users 100000]
                          [--reuse DIR]

Seeding and chaining 3M entries takes minutes of CPU; `--reuse DIR` (SQLite
only) keeps the chained database in DIR and, when DIR already holds one,
times only verify and the export, so those can be re-run on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import subprocess
import sys
import threading
import time

import requests

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "api"))

import harness  # noqa: E402
from bench import SECRET, process_cpu_seconds, scratch_database, start_server  # noqa: E402
from old_schema import STAGE_LEDGER  # noqa: E402

def child_cpu_seconds() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def timed(command: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command}: {done.stderr[-2000:]}")
    return time.monotonic() - started, done


def rss_anon_kib(pid: int) -> int:
    """Heap and stacks only: the mapped database file's pages count in RSS
    too (SQLite reads through mmap), but they are the page cache, not memory
    the export holds."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise KeyError("RssAnon")


def export(base: str, token: str, pid: int) -> dict:
    """Rows, seconds, the server's CPU seconds, and its anonymous RSS growth
    (KiB, the peak of samples every 20 ms over the stream minus before)."""
    before = rss_anon_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_anon_kib(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu_before, started, rows = process_cpu_seconds(pid), time.monotonic(), 0
    try:
        with requests.get(f"{base}/api/admin/rewards/export.csv", headers={"Authorization": f"Bearer {token}"},
                          stream=True, timeout=600) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_content(chunk_size=1 << 16):
                rows += chunk.count(b"\r\n")
    finally:
        done.set()
        sampler.join()
    return {"rows": rows - 1, "seconds": time.monotonic() - started, "cpu": process_cpu_seconds(pid) - cpu_before,
            "growth_kib": peak[0] - before}


def reused_database(folder: pathlib.Path) -> tuple[pathlib.Path, str]:
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder, f"sqlite://{folder / 'ledger.db'}"


def seed_and_chain(binary: pathlib.Path, url: str, env: dict, args: argparse.Namespace) -> tuple[float, float]:
    """Seeds, stages the rewards as an upgrade does, and lets `migrate` chain
    them: (wall seconds, CPU seconds) of the chaining."""
    seed_s, _ = timed([str(binary.with_name("referrald-seed")), "--database-url", url, "--referrals",
                       str(args.referrals), "--users", str(args.users)], env)
    print(f"seeded in {seed_s:.1f} s", flush=True)
    with contextlib.closing(harness.connect_db(url)) as conn:
        conn.cursor().execute(STAGE_LEDGER)
    before_chain = child_cpu_seconds()
    chain_s, _ = timed([str(binary), "migrate"], env)
    return chain_s, child_cpu_seconds() - before_chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / "build" / "release" / "referrald"))
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--referrals", type=int, default=1000000)
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--reuse", type=pathlib.Path, help="keep (or reuse) the chained SQLite database here")
    args = parser.parse_args()
    if args.reuse and args.backend != "sqlite":
        parser.error("--reuse keeps an SQLite file; PostgreSQL runs in a throwaway cluster")
    binary = pathlib.Path(args.binary).resolve()
    with contextlib.ExitStack() as stack:
        workdir, url = reused_database(args.reuse) if args.reuse else scratch_database(stack, args.backend, "ledger")
        env = harness.server_env({"DATABASE_URL": url, "JWT_SECRET": SECRET})
        chain_s = chain_used = 0.0
        if not (args.reuse and (args.reuse / "chained").exists()):
            chain_s, chain_used = seed_and_chain(binary, url, env, args)
            if args.reuse:
                (args.reuse / "chained").touch()
        else:
            timed([str(binary), "migrate"], env)  # a set chained by an older binary gets the newer tables
        after_chain = child_cpu_seconds()
        entries = harness.query(url, "SELECT seq FROM ledger_head")[0][0]
        rewards = harness.query(url, "SELECT COUNT(*) FROM rewards")[0][0]
        print(f"{entries} entries chained by migrate in {chain_s:.1f} s", flush=True)
        verify_s, verdict = timed([str(binary), "ledger", "verify"], env)
        verify_cpu = child_cpu_seconds() - after_chain
        print(f"ledger verify: {verify_s:.1f} s ({verify_cpu:.1f} s CPU): {verdict.stdout.strip()}", flush=True)
        server = start_server(str(binary), url, workdir, {"SQLITE_SYNCHRONOUS": "FULL"})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        base = f"http://127.0.0.1:{server.port}"
        login = requests.post(f"{base}/api/auth/login", json={"email": "admin@seed.test", "password": "seed-password"},
                              timeout=60)
        login.raise_for_status()
        csv_run = export(base, login.json()["token"], server.pid)
    print(f"\n{args.backend}, {rewards} rewards, {entries} ledger entries ({os.cpu_count()} cores)\n")
    rows, export_s, export_cpu = csv_run["rows"], csv_run["seconds"], csv_run["cpu"]
    print("| step | wall time | CPU time | rate (wall) | note |")
    print("|---|---:|---:|---:|---|")
    if chain_s:
        print(f"| chain the seeded rewards (`migrate`) | {chain_s:.1f} s | {chain_used:.1f} s | "
              f"{entries / chain_s:,.0f} entries/s | |")
    print(f"| `ledger verify` | {verify_s:.1f} s | {verify_cpu:.1f} s | {entries / verify_s:,.0f} entries/s | "
          f"exit {verdict.returncode} |")
    print(f"| export.csv | {export_s:.1f} s | {export_cpu:.1f} s (server) | {rows / export_s:,.0f} rows/s | "
          f"{rows} rows, anonymous RSS growth {csv_run['growth_kib'] / 1024:.1f} MiB |")


if __name__ == "__main__":
    main()
