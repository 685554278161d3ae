#!/usr/bin/python3
"""Profiles one route of bench.py: where the server and the database spend it.

Seeds a scratch database as bench.py does, starts the server, drives the route
with wrk and records the whole machine with `perf record -e cpu-clock -a -g`
for the middle of the run, then counts each sample's stack by function:

  bench/route_profile.py --backend postgresql --route apply --duration 20
  bench/route_profile.py --backend postgresql --scale --route summary --top 40

It prints each process's share of all samples (the server, PostgreSQL's
processes, wrk, the rest), then for the server and PostgreSQL two tables: the
functions found in most of their samples (inclusive: a function counts once
per sample whatever the depth) and the frames sampled most (self). Frames
perf cannot name (`[unknown]`) are left out of the tables, not of the totals.

Why `cpu-clock`: on the virtual machines this runs on, perf's default hardware
event samples nothing but the idle loop. A C++ name is cut at its argument
list so overloads and template arguments add up.
"""

from __future__ import annotations

import collections
import contextlib
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402

WARM_UP_SECONDS = 2  # wrk's connections and the caches warm up before recording


def start_recording(data: pathlib.Path, seconds: int, frequency: int) -> subprocess.Popen:
    """perf over the whole machine for `seconds`, after the warm-up."""
    record = ["perf", "record", "-q", "-e", "cpu-clock", "-a", "-g", "-F", str(frequency),
              "-o", str(data), "--", "sleep", str(seconds)]
    return subprocess.Popen(["sh", "-c", f'sleep {WARM_UP_SECONDS} && exec "$@"', "sh", *record],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def short_name(symbol: str) -> str:
    """`ns::f(int, char)` → `ns::f`; `[unknown]` stays."""
    symbol = symbol.replace("(anonymous namespace)", "{anonymous}")
    depth = 0
    for at, char in enumerate(symbol):
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == "(" and depth == 0 and at > 0:
            return symbol[:at]
    return symbol


def samples(data: pathlib.Path):
    """(pid, comm, frames leaf first) for each sample of `perf script`."""
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,pid,ip,sym"],
                            check=True, capture_output=True, text=True, errors="replace").stdout
    for block in script.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        head = lines[0].split()
        if len(head) < 2 or not head[-1].isdigit():
            continue
        frames = [short_name(parts[1]) if len(parts) > 1 else "[unknown]"
                  for parts in (line.split(None, 1) for line in lines[1:])]
        yield int(head[-1]), " ".join(head[:-1]), frames


def group_of(pid: int, comm: str, server_pid: int) -> str:
    if pid == server_pid:
        return "referrald"
    if comm == "postgres":
        return "postgresql"
    return "wrk" if comm == "wrk" else "other"


def report(data: pathlib.Path, server_pid: int, top: int) -> None:
    totals = collections.Counter()
    inclusive = collections.defaultdict(collections.Counter)
    self_time = collections.defaultdict(collections.Counter)
    for pid, comm, frames in samples(data):
        group = group_of(pid, comm, server_pid)
        totals[group] += 1
        inclusive[group].update(set(frames))
        if frames:
            self_time[group][frames[0]] += 1
    everything = sum(totals.values()) or 1
    print(f"\n{everything} samples: " + ", ".join(
        f"{group} {count * 100 / everything:.1f}%" for group, count in totals.most_common()))
    for group in ("referrald", "postgresql"):
        count = totals[group]
        if not count:
            continue
        print(f"\n{group}: {count} samples ({count * 100 / everything:.1f}% of all)")
        for title, counts in (("in the stack (inclusive)", inclusive[group]), ("sampled itself (self)", self_time[group])):
            print(f"\n| function {title} | share of {group}'s samples |\n|---|---:|")
            named = [(function, hits) for function, hits in counts.most_common() if function != "[unknown]"]
            for function, hits in named[:top]:
                print(f"| `{function}` | {hits * 100 / count:.1f}% |")


def main() -> None:
    parser = bench.load_arguments(__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--route", required=True, help="a scenario of bench.py, e.g. apply, summary")
    parser.add_argument("--scale", action="store_true", help="the 1M-referral data set (referrald-seed)")
    parser.add_argument("--frequency", type=int, default=499, help="samples per second per CPU")
    parser.add_argument("--top", type=int, default=30, help="functions listed per process")
    bench.add_pg_connect_argument(parser)
    parser.add_argument("--keep", metavar="FILE", help="keep perf's data in FILE (perf report -i FILE)")
    args = parser.parse_args()
    if args.duration <= WARM_UP_SECONDS + 2:
        parser.error(f"--duration must exceed {WARM_UP_SECONDS + 2} s")
    if not shutil.which("perf"):
        parser.error("perf is missing: make setup-bench installs it (linux-perf)")
    args.binary = str(pathlib.Path(args.binary).resolve())
    with contextlib.ExitStack() as stack:
        workdir, url = bench.scratch_database(stack, args.backend, "profile")
        seeder = (bench.ScaleSeeder if args.scale else bench.Seeder)(url, args.binary, workdir)
        fresh = max(args.duration * 6000, 20000)
        seeder.seed(args.users, args.referrers, fresh, fresh)
        seeder.seed_link_clicks()
        seeder.make_api_key()
        chosen = [s for s in bench.scenarios(seeder, args.duration) if s["name"] == args.route]
        if not chosen:
            raise SystemExit(f"no route {args.route!r} in bench.py's scenarios")
        scenario = chosen[0]
        if scenario.get("fresh"):
            scenario = {**scenario, "tokens": bench.take_fresh(seeder, fresh), "unique": True, "body": "{}"}
        server = bench.start_server(args.binary, bench.server_database_url(url, args.pg_connect), workdir,
                                    {"SQLITE_SYNCHRONOUS": "FULL"})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        data = pathlib.Path(args.keep) if args.keep else workdir / "perf.data"
        recorder = start_recording(data, args.duration - WARM_UP_SECONDS - 1, args.frequency)
        result = bench.measured(f"http://127.0.0.1:{server.port}", server.pid, scenario, args, workdir,
                                bench.postmaster_pid(url) if args.backend == "postgresql" else None)
        if recorder.wait() != 0:
            raise SystemExit(f"perf record failed: {recorder.stderr.read()}")
        database = f" and PostgreSQL {result['db_cpu_us']:.0f} µs" if args.backend == "postgresql" else ""
        print(f"{args.route} ({args.backend}{', scale set' if args.scale else ''}): {result['rps']:.0f} req/s, "
              f"server {result['cpu_us']:.0f} µs{database} of CPU per request (under perf), "
              f"non-2xx {result['non2xx']}")
        report(data, server.pid, args.top)


if __name__ == "__main__":
    main()
