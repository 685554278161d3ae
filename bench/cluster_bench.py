#!/usr/bin/python3
"""One vs two referrald instances on one PostgreSQL, through nginx (issue 8).

  bench/cluster_bench.py --duration 10
  bench/cluster_bench.py --scenarios verify-session,apply --instances 1,2

Seeds like bench/bench.py (same Seeder, tokens and wrk script), then for each
instance count starts that many servers behind the nginx of tests/cluster
(round-robin) and runs wrk through nginx. Besides req/s and latency it
reports the CPU per request of each party (referrald, nginx, PostgreSQL:
user+system time of their processes over the requests served) and, from
pg_stat_statements, the SQL statements per request, BEGIN/COMMIT included.
The database, the servers, nginx and wrk share this machine's cores: read
the CPU columns, not the req/s, to size a deployment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
import sys
import tempfile
import time

import bench  # bench/bench.py: Seeder, start_server, wrk, process_cpu_seconds

sys.path.insert(0, str(bench.REPO / "tests" / "cluster"))
import cluster  # noqa: E402  (tests/cluster/cluster.py: Nginx)

# Fresh referees per second of an apply run: more than this machine applies.
APPLIES_PER_SECOND = 2000
APPLIES = {"apply", "apply-spread"}  # the scenarios that use up fresh referees


def stats_cluster() -> bench.harness.PostgresCluster:
    """The harness's throwaway PostgreSQL with pg_stat_statements loaded."""
    pg = bench.harness.PostgresCluster()
    with open(pg.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n")
    pg.stop()
    pg.start()
    return pg


def with_children(pid: int) -> list[int]:
    """A process and its children as of now (nginx's worker; PostgreSQL's backends, walwriter, ...)."""
    return [pid, *map(int, pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]


def postmaster(pg: bench.harness.PostgresCluster) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += bench.process_cpu_seconds(pid)
    return total


def statements(pg: bench.harness.PostgresCluster, database: str, reset: bool = False) -> int:
    with contextlib.closing(pg.connect(database)) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            if reset:
                cursor.execute("SELECT pg_stat_statements_reset()")
                return 0
            cursor.execute("SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s JOIN pg_database d "
                           "ON d.oid = s.dbid WHERE d.datname = current_database() "
                           "AND s.query NOT LIKE '%pg_stat_statements%'")
            return int(cursor.fetchone()[0])


def top_statements(pg: bench.harness.PostgresCluster, database: str, served: int) -> list[str]:
    """The statements of the last run, most frequent first, as `calls/request  query` lines."""
    with contextlib.closing(pg.connect(database)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements s "
                       "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() "
                       "AND s.query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, query")
        return [f"{calls / served:6.2f}  {query[:160]}" for calls, query in cursor.fetchall()]


def run(scenario: dict, parties: dict, pg, database: str, base: str, args, workdir: pathlib.Path) -> dict:
    """wrk through nginx; CPU µs per request of each party and statements per request."""
    statements(pg, database, reset=True)
    before = {name: cpu_of(pids()) for name, pids in parties.items()}
    result = bench.wrk(base, scenario, args.duration, args.connections, args.threads, workdir)
    served = max(result["requests"], 1)
    for name, pids in parties.items():
        result[name] = (cpu_of(pids()) - before[name]) * 1e6 / served
    result["statements"] = statements(pg, database) / served
    if args.show_statements:
        print(f"  statements per {scenario['name']} request:", *top_statements(pg, database, served), sep="\n    ")
    return result


def spread_apply(seeder: bench.Seeder) -> dict:
    """bench.py's apply uses one code (one hot row); here referee n applies
    code n modulo the referrers, as real traffic would, through the wrk
    script's per-token bodies."""
    referrers = len(seeder.tokens["referrers"])
    apply = next(scenario for scenario in bench.scenarios(seeder) if scenario["name"] == "apply")
    return {**apply, "name": "apply-spread",
            "suffix": lambda n: "\t" + json.dumps({"referral_code": f"BENCH-{n % referrers:08d}"})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(bench.REPO / "build" / "release" / "referrald"))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--referrers", type=int, default=2000)
    parser.add_argument("--instances", default="1,2")
    parser.add_argument("--scenarios", default="verify-session,summary,apply,apply-spread")
    parser.add_argument("--show-statements", action="store_true", help="list each run's SQL statements")
    args = parser.parse_args()
    binary = str(pathlib.Path(args.binary).resolve())
    counts = [int(n) for n in args.instances.split(",")]
    wanted = args.scenarios.split(",")
    rows = []
    with contextlib.ExitStack() as stack:
        workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="referrald-cbench-")))
        pg = stats_cluster()
        stack.callback(pg.destroy)
        url = pg.create_database()
        database = url.rsplit("/", 1)[1]
        seeder = bench.Seeder(url, binary, workdir)
        applies = len(set(wanted) & APPLIES)
        seeder.seed(args.users, args.referrers, APPLIES_PER_SECOND * args.duration * len(counts) * applies)
        with contextlib.closing(pg.connect(database)) as conn, conn.cursor() as cursor:
            conn.autocommit = True
            cursor.execute("CREATE EXTENSION pg_stat_statements")
        fresh = iter(seeder.tokens["fresh"])
        for count in counts:
            servers = []
            for n in range(count):
                folder = workdir / f"{count}-{n}"
                folder.mkdir()
                servers.append(bench.start_server(binary, url, folder, {"TRUSTED_PROXIES": "127.0.0.1"}))
            nginx = cluster.Nginx([server.port for server in servers])
            parties = {"referrald": lambda s=servers: [server.pid for server in s],
                       "nginx": lambda p=nginx.proc.pid: with_children(p),
                       "postgres": lambda p=postmaster(pg): with_children(p)}
            base = f"http://127.0.0.1:{nginx.port}"
            for scenario in [*bench.scenarios(seeder), spread_apply(seeder)]:  # seeded: tokens exist
                if scenario["name"] not in wanted:
                    continue
                if scenario.get("unique"):  # each fresh referee applies once, in one run only
                    scenario["tokens"] = [token + scenario.get("suffix", lambda n: "")(n) for n, token in
                                          zip(range(APPLIES_PER_SECOND * args.duration), fresh)]
                result = run(scenario, parties, pg, database, base, args, workdir)
                if scenario.get("unique") and result["requests"] >= len(scenario["tokens"]):
                    print(f"  {scenario['name']} ran out of fresh referees: raise APPLIES_PER_SECOND")
                rows.append((count, scenario["name"], result))
                print(f"  {count} instance(s) {scenario['name']}: {result['rps']:.0f} req/s", flush=True)
                time.sleep(1)
            nginx.stop()
            for server in servers:
                server.terminate()
                server.wait(30)
    print(f"\nPostgreSQL 15 (fsync=off), nginx round-robin, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s, {args.users} users\n")
    print("| instances | route | req/s | p50 ms | p99 ms | non-2xx | referrald µs/req | nginx µs/req "
          "| PostgreSQL µs/req | statements/req |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, name, r in rows:
        print(f"| {count} | {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} "
              f"| {r['referrald']:.0f} | {r['nginx']:.0f} | {r['postgres']:.0f} | {r['statements']:.1f} |")


if __name__ == "__main__":
    main()
