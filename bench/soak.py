#!/usr/bin/python3
"""Soak (issue 6): minutes of mixed load at about 70% of the capacity
measured just before, against the real binary. Per minute it records the
achieved rate, p50/p99 (wrk), the server's CPU, resident memory and open
descriptors, then judges: RSS growth after the warm-up minute < 10%, no
growth of socket/pipe descriptors (files may grow by a late-opened database
session), p99 stable (no minute over twice the median). The machine's
1-minute load average is shown per minute: on a shared machine a p99 spike
with the server's CPU share falling is other work, not the server.

  bench/soak.py --binary build/release/referrald --backend sqlite --minutes 10
  bench/soak.py --minutes 3 --minute-seconds 10      # a quick look

The rate is held by pacing each wrk connection (bench/lua/mixed.lua,
SOAK_DELAY_MS): closed loop with a pause per connection, calibrated in
short runs before the first minute and corrected after every minute. wrk runs one minute at a time, so each
minute has its own latency figures and the descriptor count is read
between runs, when no client is connected. wrk shares the machine with
the server; capacity is measured the same way, so 70% is of what this
machine gives with wrk on it. Exit status 1 when a criterion fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import statistics
import subprocess
import sys
import time

import bench  # the seeder, the server start and wrk's output parser
import harness
import procstat

MIXED_LUA = bench.REPO / "bench" / "lua" / "mixed.lua"
TARGET_SHARE = 0.7
RSS_GROWTH_LIMIT = 0.10
P99_SPREAD_LIMIT = 2.0
CALIBRATION_RUNS = 5


def write_lines(path: pathlib.Path, items: list[str]) -> str:
    path.write_text("\n".join(items) + "\n")
    return str(path)


def load_files(seeder: bench.Seeder, workdir: pathlib.Path) -> dict:
    referees = [row[0] for row in harness.query(seeder.url, "SELECT referee_id FROM referrals LIMIT 5000")]
    return {
        "SOAK_USERS": write_lines(workdir / "users.tokens", seeder.tokens["users"]),
        "SOAK_REFERRERS": write_lines(workdir / "referrers.tokens", seeder.tokens["referrers"]),
        "SOAK_ADMIN": write_lines(workdir / "admin.tokens", seeder.tokens["admin"]),
        "SOAK_REFEREE_IDS": write_lines(workdir / "referees.ids", referees),
    }


def run_wrk(base: str, files: dict, seconds: int, connections: int, threads: int, delay_ms: float) -> dict:
    env = dict(os.environ, **files, SOAK_DELAY_MS=f"{delay_ms:.3f}")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(MIXED_LUA), base]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    result = bench.parse_wrk(done.stdout)
    if not result["requests"]:
        raise SystemExit(f"wrk ran no request:\n{done.stdout}\n{done.stderr}")
    return result


def pause_for(target_rps: float, achieved_rps: float, delay_ms: float, connections: int, step: float) -> float:
    """Each connection cycles every connections/rate seconds (answer +
    pause): move the pause by `step` times the difference between the
    target's cycle and the achieved one."""
    return max(0.0, delay_ms + step * 1000 * connections * (1 / target_rps - 1 / achieved_rps))


def calibrate(args, base: str, files: dict, target: float, capacity: float) -> float:
    """Short runs that move the pause a full step at a time until the rate is
    within 5% of the target (answers get faster as the load drops, so one
    step from the capacity run undershoots the pause)."""
    delay_ms = pause_for(target, capacity, 0.0, args.connections, 1.0)
    for _ in range(CALIBRATION_RUNS):
        rps = run_wrk(base, files, args.capacity_seconds, args.connections, args.threads, delay_ms)["rps"]
        print(f"  calibrating: pause {delay_ms:.2f} ms -> {rps:.0f} req/s", flush=True)
        if abs(rps - target) <= 0.05 * target:
            break
        delay_ms = pause_for(target, rps, delay_ms, args.connections, 1.0)
    return delay_ms


def sample(pid: int) -> dict:
    fds = procstat.fd_count(pid)
    files = procstat.file_fd_count(pid)
    return {"rss": procstat.memory_kib(pid), "anon": procstat.memory_kib(pid, "RssAnon"),
            "fds": fds, "other_fds": fds - files, "cpu": procstat.cpu_seconds(pid),
            "load": os.getloadavg()[0]}


def soak(args, server, files: dict) -> tuple[float, list[dict]]:
    base = f"http://127.0.0.1:{server.port}"
    capacity = run_wrk(base, files, args.capacity_seconds, args.connections, args.threads, 0.0)["rps"]
    target = capacity * TARGET_SHARE
    print(f"capacity {capacity:.0f} req/s (mixed, {args.capacity_seconds}s); target {target:.0f} req/s", flush=True)
    delay_ms = calibrate(args, base, files, target, capacity)
    minutes = []
    for minute in range(1, args.minutes + 1):
        before = sample(server.pid)
        result = run_wrk(base, files, args.minute_seconds, args.connections, args.threads, delay_ms)
        time.sleep(1)  # the server closes wrk's connections
        after = sample(server.pid)
        cpu_share = (after["cpu"] - before["cpu"]) / args.minute_seconds
        minutes.append({"minute": minute, **result, **after, "cpu_share": cpu_share, "delay_ms": delay_ms})
        print(f"  minute {minute}: {result['rps']:.0f} req/s, p99 {result['p99']:.2f} ms, RSS {after['rss']} KiB, "
              f"fds {after['fds']}", flush=True)
        if server.poll() is not None:
            raise SystemExit(f"referrald died in minute {minute} (exit {server.returncode})")
        # Half steps from here: the machine is shared, and full ones chased its noise.
        delay_ms = pause_for(target, result["rps"], delay_ms, args.connections, 0.5)
    return target, minutes


def verdict(minutes: list[dict]) -> list[tuple[str, str, bool]]:
    warm, rest = minutes[0], minutes[1:] or minutes
    rss_growth = (minutes[-1]["rss"] - warm["rss"]) / warm["rss"]
    anon_growth = (minutes[-1]["anon"] - warm["anon"]) / warm["anon"]
    fd_growth = max(m["fds"] for m in rest) - warm["fds"]
    socket_growth = max(m["other_fds"] for m in rest) - warm["other_fds"]
    p99s = [m["p99"] for m in rest]
    spread = max(p99s) / statistics.median(p99s)
    non2xx = sum(m["non2xx"] for m in minutes)
    return [
        ("RSS growth after warm-up", f"{rss_growth:+.1%} (anonymous memory {anon_growth:+.1%})",
         rss_growth < RSS_GROWTH_LIMIT),
        # Files may grow by a database session opened late (the pool opens its
        # DB_POOL_SIZE + 2 sessions lazily); sockets, pipes and the like must not.
        ("socket/pipe descriptor growth after warm-up", f"{socket_growth:+d} (all descriptors {fd_growth:+d})",
         socket_growth <= 0),
        ("p99: worst minute / median minute", f"{spread:.2f} (median {statistics.median(p99s):.2f} ms)",
         spread <= P99_SPREAD_LIMIT),
        ("non-2xx answers", str(non2xx), non2xx == 0),
    ]


def report(args, target: float, minutes: list[dict]) -> bool:
    print(f"\n{args.backend}, {args.minutes} × {args.minute_seconds}s of bench/lua/mixed.lua, "
          f"wrk -t{args.threads} -c{args.connections}, target {target:.0f} req/s\n")
    print("| minute | pause ms | req/s | p50 ms | p99 ms | server CPU | machine load | RSS KiB | anon KiB "
          "| fds (not files) | non-2xx |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in minutes:
        print(f"| {m['minute']} | {m['delay_ms']:.2f} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
              f"{m['cpu_share']:.0%} | {m['load']:.1f} | {m['rss']} | {m['anon']} | {m['fds']} ({m['other_fds']}) | {m['non2xx']} |")
    print()
    passed = True
    for name, value, ok in verdict(minutes):
        print(f"- {name}: {value} — {'ok' if ok else 'FAIL'}")
        passed = passed and ok
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(bench.REPO / "build" / "release" / "referrald"))
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--minute-seconds", type=int, default=60, help="length of one measured period")
    parser.add_argument("--capacity-seconds", type=int, default=10, help="the capacity and each calibration run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.minutes < 2:
        parser.error("--minutes must be at least 2 (the first is the warm-up)")
    binary = str(pathlib.Path(args.binary).resolve())
    with contextlib.ExitStack() as stack:
        workdir, url = bench.scratch_database(stack, args.backend, "soak")
        seeder = bench.Seeder(url, binary, workdir)
        seeder.seed(users=20000, referrers=2000, fresh_referees=0)
        server = bench.start_server(binary, url, workdir, {"SQLITE_SYNCHRONOUS": "FULL"})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        target, minutes = soak(args, server, load_files(seeder, workdir))
    sys.exit(0 if report(args, target, minutes) else 1)


if __name__ == "__main__":
    main()
