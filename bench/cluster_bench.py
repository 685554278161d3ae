#!/usr/bin/python3
"""One vs two referrald instances on one PostgreSQL, through nginx (issue 8).

  bench/cluster_bench.py --duration 10
  bench/cluster_bench.py --scenarios verify-session,apply --instances 1,2
  bench/cluster_bench.py --route-statements      # SQL statements per request, every route

Seeds like bench/bench.py (same Seeder, tokens and wrk script), then for each
instance count starts that many servers behind the nginx of tests/cluster
(round-robin) and runs wrk through nginx. Besides req/s and latency it
reports the CPU per request of each party (referrald, nginx, PostgreSQL:
user+system time of their processes over the requests served) and, from
pg_stat_statements, the SQL statements the server sent per request,
BEGIN/COMMIT included (foreign-key checks run inside PostgreSQL and are not
counted). The database, the servers, nginx and wrk share this machine's
cores: read the CPU columns, not the req/s, to size a deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
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
        conf.write("shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = top\n"
                   "pg_stat_statements.track_planning = on\n")
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
    """The statements of the last run, most frequent first, as `calls/request  plans/request
    planning µs/request  execution µs/request  query` lines (PostgreSQL's time inside the
    statement, lock waits included; parsing, the round trip and the COMMIT's WAL flush are not
    in it). A named statement plans its first executions, then keeps a generic plan unless that
    looks costlier: plans/request near calls/request says it never did."""
    with contextlib.closing(pg.connect(database)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT calls, plans, total_plan_time, total_exec_time, "
                       "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements s "
                       "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() "
                       "AND s.query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, query")
        return [f"{calls / served:6.2f}  {plans / served:6.2f}  {plan_ms * 1000 / served:6.1f} µs  "
                f"{exec_ms * 1000 / served:7.1f} µs  {query[:120]}"
                for calls, plans, plan_ms, exec_ms, query in cursor.fetchall()]


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
    """bench.py's apply spreads over bench.APPLY_CODES codes; here referee n
    applies code n modulo all the referrers, through the wrk script's
    per-token bodies."""
    referrers = len(seeder.tokens["referrers"])
    apply = next(scenario for scenario in bench.scenarios(seeder) if scenario["name"] == "apply")
    return {**apply, "name": "apply-spread", "fresh": False, "unique": True, "body": "{}",
            "suffix": lambda n: "\t" + json.dumps({"referral_code": f"BENCH-{n % referrers:08d}"})}


def start_instances(count: int, binary: str, url: str, workdir: pathlib.Path) -> list:
    servers = []
    for n in range(count):
        folder = workdir / f"{count}-{n}"
        folder.mkdir()
        servers.append(bench.start_server(binary, url, folder, {"TRUSTED_PROXIES": "127.0.0.1"}))
    return servers


def compare_instances(args, pg, url: str, workdir: pathlib.Path) -> list:
    """Seeds, then for each instance count runs the wanted scenarios through nginx."""
    counts = [int(n) for n in args.instances.split(",")]
    wanted = args.scenarios.split(",")
    database = url.rsplit("/", 1)[1]
    seeder = bench.Seeder(url, args.binary, workdir)
    seeder.seed(args.users, args.referrers,
                APPLIES_PER_SECOND * args.duration * len(counts) * len(set(wanted) & APPLIES))
    rows = []
    for count in counts:
        servers = start_instances(count, args.binary, url, workdir)
        nginx = cluster.Nginx([server.port for server in servers])
        parties = {"referrald": lambda s=servers: [server.pid for server in s],
                   "nginx": lambda p=nginx.proc.pid: with_children(p),
                   "postgres": lambda p=postmaster(pg): with_children(p)}
        base = f"http://127.0.0.1:{nginx.port}"
        for scenario in [*bench.scenarios(seeder), spread_apply(seeder)]:  # seeded: tokens exist
            if scenario["name"] not in wanted:
                continue
            if scenario.get("fresh"):  # each fresh referee applies once, in one run only
                scenario = {**scenario, "tokens": bench.take_fresh(seeder, APPLIES_PER_SECOND * args.duration),
                            "unique": True, "body": "{}"}
            elif scenario.get("unique"):
                raw = bench.take_raw_fresh(seeder, APPLIES_PER_SECOND * args.duration)
                scenario["tokens"] = [token + scenario["suffix"](n) for n, token in enumerate(raw)]
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
    return rows


def print_comparison(args, rows: list) -> None:
    print(f"\nPostgreSQL 15 (fsync=off), nginx round-robin, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s, {args.users} users\n")
    print("| instances | route | req/s | p50 ms | p99 ms | non-2xx | referrald µs/req | nginx µs/req "
          "| PostgreSQL µs/req | statements/req |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, name, r in rows:
        print(f"| {count} | {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} "
              f"| {r['referrald']:.0f} | {r['nginx']:.0f} | {r['postgres']:.0f} | {r['statements']:.1f} |")


def route_statements(pg, url: str, workdir: pathlib.Path, per_route: int = 20) -> None:
    """Statements per request of each route, through the API tests' flows on
    one server (pg_stat_statements, BEGIN/COMMIT included, foreign-key checks
    and the mail sender's claims not)."""
    import flows  # tests/api, on the path through bench.py
    import ledger_flows as lf

    pool = bench.harness.ServerPool(bench.harness.Databases("postgresql", pg, workdir), workdir)
    try:
        # Every fraud rule on, as deployed (the tests turn same-IP off).
        server = pool.start(env=lf.env(REFERRAL_FLAG_SAME_IP="true"), database_url=url)
        database = url.rsplit("/", 1)[1]

        def measure(name: str, call, count: int = per_route) -> None:
            statements(pg, database, reset=True)
            for n in range(count):
                call(n)
            # The sender claims and marks each email in a transaction of its own
            # (BEGIN, statement, COMMIT): the email's cost, not the route's.
            sender = 3 * outbox_statements(pg, database)
            print(f"| {name} | {(statements(pg, database) - sender) / count:.1f} |", flush=True)

        print("| route | statements per request |\n|---|---:|")
        for name, call, count in route_calls(server, flows, lf, per_route):
            measure(name, call, count)
    finally:
        pool.close()


def outbox_statements(pg, database: str) -> int:
    """Calls of the background mail sender's own statements (claim, mark sent) since the reset."""
    with contextlib.closing(pg.connect(database)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s JOIN pg_database d "
                       "ON d.oid = s.dbid WHERE d.datname = current_database() "
                       "AND (s.query LIKE 'WITH due AS%' OR s.query LIKE 'UPDATE outbox SET%')")
        return int(cursor.fetchone()[0])


def route_calls(server, flows, lf, count: int):
    """(route, call(n), times) in an order where each step has what it needs."""
    boss = lf.admin(server)
    lf.config(server, boss)
    lf.config(server, boss, "FIRST_ORDER", 300, "CASH", auto_credit=True)
    emails = [flows.new_email() for _ in range(count)]
    yield "signup", lambda n: flows.signup(server, emails[n]), count
    codes = [flows.latest_code(server, email) for email in emails]
    yield "verify-otp", lambda n: flows.verify(server, emails[n], codes[n]), count
    users = []
    yield "login", lambda n: users.append(lf.User(emails[n], lf.login_from(server, emails[n]),
                                                  flows.user_id(server, emails[n]))), count
    yield "verify-session", lambda n: lf.post(server, "/api/auth/verify-session", users[n].headers), count
    yield "generate (new code)", lambda n: lf.generate(server, users[n]), count
    yield "generate (has one)", lambda n: lf.generate(server, users[n]), count
    referrer, code = users[0], lf.code_of(server, users[0])
    referees = [lf.user(server) for _ in range(count)]
    yield "apply", lambda n: lf.apply(server, referees[n], code), count
    for name, path in (("summary", "/api/referral/analytics/summary"), ("list page", "/api/referral/analytics/list"),
                       ("timeline", "/api/referral/analytics/timeline"), ("reward history", "/api/rewards/history"),
                       ("balance", "/api/rewards/balance")):
        yield name, lambda n, path=path: lf.get(server, path, referrer.headers), count
    yield "leaderboard", lambda n: lf.get(server, "/api/admin/referral/top", boss.headers), count
    pending = [row[0] for row in server.query(
        "SELECT id FROM rewards WHERE status = 'PENDING' AND reward_type = 'SIGNUP'")]
    yield "credit", lambda n: lf.credit(server, boss, pending[n]), min(count, len(pending))
    yield "event (FIRST_ORDER, auto-credit)", lambda n: lf.event(server, boss, f"order-{n}",
                                                                 email=referees[n].email), count
    yield "logout", lambda n: lf.post(server, "/api/auth/logout", users[n].headers), count


def main() -> None:
    parser = bench.load_arguments(__doc__)
    parser.add_argument("--instances", default="1,2")
    parser.add_argument("--scenarios", default="verify-session,summary,apply,apply-spread")
    parser.add_argument("--show-statements", action="store_true", help="list each run's SQL statements")
    parser.add_argument("--route-statements", action="store_true",
                        help="instead of wrk: count the statements of each route on one server")
    args = parser.parse_args()
    args.binary = str(pathlib.Path(args.binary).resolve())
    with contextlib.ExitStack() as stack:
        workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="referrald-cbench-")))
        pg = stats_cluster()
        stack.callback(pg.destroy)
        url = pg.create_database()
        with contextlib.closing(pg.connect(url.rsplit("/", 1)[1])) as conn, conn.cursor() as cursor:
            conn.autocommit = True
            cursor.execute("CREATE EXTENSION pg_stat_statements")
        if args.route_statements:
            os.environ.setdefault("REFERRALD_BINARY", args.binary)
            route_statements(pg, url, workdir)
        else:
            print_comparison(args, compare_instances(args, pg, url, workdir))


if __name__ == "__main__":
    main()
