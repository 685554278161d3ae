#!/usr/bin/python3
"""Benchmarks the real referrald binary with wrk and prints a table.

Every figure is also given as a ratio to the server's own /healthz in the same
run, so results from different machines can be compared.

  bench/bench.py --binary build/release/referrald --backend sqlite
  bench/bench.py --backend postgresql --scenarios healthz,verify-session

Data is seeded with SQL (users share one real Argon2id hash, made by
`referrald users create-admin`), and tokens are minted with the JWT_SECRET
the server is started with.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import base64
import contextlib
import hashlib
import hmac
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "api"))
import harness  # noqa: E402  (the test harness: PostgreSQL cluster, DB connections)
from old_schema import STAGE_LEDGER  # noqa: E402

SECRET = "benchmark-secret-that-is-long-enough-0123456789"


def chain_seeded_rewards(url: str, run_cli) -> None:
    """Chains the seeded rewards; without a ledger (a binary from before it) nothing is staged."""
    with contextlib.closing(harness.connect_db(url)) as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM schema_migrations WHERE version = 15")
        if cursor.fetchone()[0] == 0:
            return
        cursor.execute(STAGE_LEDGER)
    run_cli("migrate")
PASSWORD = "bench password 1"
LUA = REPO / "bench" / "lua" / "requests.lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Apply spreads over this many referrers' codes (the burst rule counts per
# code: with one code every apply after the tenth in an hour is flagged).
APPLY_CODES = 50
# The fraud rules, each with the setting that turns it off (--apply-rules).
RULES_OFF = {"same-ip": {"REFERRAL_FLAG_SAME_IP": "false"}, "burst": {"REFERRAL_MAX_USES_PER_HOUR": "0"},
             "cycles": {"REFERRAL_BLOCK_CYCLES": "false"}, "aliases": {"REFERRAL_BLOCK_ALIASES": "false"},
             "window": {"REFERRAL_APPLY_WINDOW_DAYS": "0"}}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(user_id: str, session_id: str, now: int) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": user_id, "sid": session_id, "jti": uuid.uuid4().hex, "iat": now,
                           "exp": now + 30 * 86400}, separators=(",", ":")).encode())
    signature = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


class Seeder:
    """Fills the database through plain SQL, the same way on both engines."""

    def __init__(self, database_url: str, binary: str, workdir: pathlib.Path):
        self.url = database_url
        self.binary = binary
        self.workdir = workdir
        self.now_ms = int(time.time() * 1000)
        self.tokens: dict[str, list[str]] = {}
        self.login = ("admin@bench.test", PASSWORD)
        self.apply_code = "BENCH-00000000"
        self.event_users: list[str] = []
        self.api_key = ""  # make_api_key()

    def run_cli(self, *args: str, stdin: str | None = None) -> str:
        env = harness.server_env({"DATABASE_URL": self.url, "JWT_SECRET": SECRET})
        done = subprocess.run([self.binary, *args], env=env, input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{args}: {done.stderr}")
        return done.stdout

    def make_api_key(self) -> None:
        """An API key for /api/v1/events, made as an operator would."""
        self.api_key = self.run_cli("api-keys", "create", "--name", "bench", "--scope", "events:write").strip()

    def insert(self, conn, table: str, columns: list[str], rows: list[tuple]) -> None:
        cursor = conn.cursor()
        if self.url.startswith("sqlite://"):
            marks = ",".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)
        else:
            from psycopg2.extras import execute_values

            execute_values(cursor, f"INSERT INTO {table} ({','.join(columns)}) VALUES %s", rows, page_size=2000)

    def seed(self, users: int, referrers: int, fresh_referees: int, credit_targets: int = 0) -> None:
        self.run_cli("migrate")
        self.run_cli("users", "create-admin", "--email", "admin@bench.test", "--name", "Admin",
                     "--password-stdin", stdin=PASSWORD + "\n")
        conn = harness.connect_db(self.url)
        cursor = conn.cursor()
        cursor.execute("SELECT id, password_hash FROM users WHERE email = 'admin@bench.test'")
        admin_id, password_hash = cursor.fetchone()
        if self.url.startswith("sqlite://"):
            cursor.execute("BEGIN")
        else:
            conn.autocommit = False
        now = self.now_ms
        ids = [str(uuid.uuid4()) for _ in range(users + fresh_referees + credit_targets)]
        self.insert(conn, "users", ["id", "name", "email", "canonical_email", "password_hash", "is_verified",
                                    "is_admin", "created_at"],
                    [(uid, f"User {n}", f"u{n}@bench.test", f"u{n}@bench.test", password_hash, 1, 0, now - n)
                     for n, uid in enumerate(ids)])
        sessions = [(str(uuid.uuid4()), uid) for uid in ids + [admin_id]]
        self.insert(conn, "sessions", ["id", "user_id", "created_at", "expires_at", "last_seen_at", "ip", "user_agent"],
                    [(sid, uid, now, now + 30 * 86400000, now, "10.0.0.1", "bench") for sid, uid in sessions])
        # The addresses a login through the API records: the same-IP rule
        # looks the referrer's up on every apply (wrk comes from 127.0.0.1,
        # so it finds none and flags nothing).
        self.insert(conn, "login_ips", ["user_id", "ip", "last_login_at"], [(uid, "10.0.0.1", now) for uid in ids])
        token = {uid: mint(uid, sid, now // 1000) for sid, uid in sessions}
        code_ids = [str(uuid.uuid4()) for _ in range(referrers)]
        self.insert(conn, "referral_codes", ["id", "user_id", "code", "uses", "created_at"],
                    [(code_ids[r], ids[r], f"BENCH-{r:08d}", 0, now) for r in range(referrers)])
        self.seed_referrals(conn, ids[:users] + ids[users + fresh_referees:], code_ids, referrers, now, users)
        self.insert(conn, "reward_configs", ["id", "reward_type", "reward_value", "reward_unit", "beneficiary",
                                             "auto_credit", "is_active", "created_at"],
                    [(str(uuid.uuid4()), "SIGNUP", 100, "POINTS", "REFERRER", 0, 1, now),
                     (str(uuid.uuid4()), "FIRST_ORDER", 500, "CASH", "REFERRER", 0, 1, now)])
        self.recount(conn)
        conn.commit()
        conn.close()
        chain_seeded_rewards(self.url, self.run_cli)
        self.settle()
        self.event_users = ids[referrers:users]  # referred: a first event makes a FIRST_ORDER reward
        self.apply_codes = [f"BENCH-{r:08d}" for r in range(min(referrers, APPLY_CODES))]
        self.tokens = {
            "referrers": [token[uid] for uid in ids[:referrers]],
            "users": [token[uid] for uid in ids[:users]],
            "fresh": [token[uid] for uid in ids[users:users + fresh_referees]],
            "admin": [token[admin_id]],
        }
        self.busy_referrer = ids[0]

    def settle(self) -> None:
        """PostgreSQL: vacuums and analyses the seeded tables, as autovacuum soon
        would on a live database (referrald-seed does the same). Without it the
        index-only scans visit the heap for every row, the first reads set hint
        bits, and an autovacuum may start in the middle of a measured run.
        SQLite gathers no statistics by itself, so its file is left as seeded."""
        if self.url.startswith("sqlite://"):
            return
        conn = harness.connect_db(self.url)
        try:
            conn.cursor().execute("VACUUM ANALYZE")
        finally:
            conn.close()

    @staticmethod
    def recount(conn) -> None:
        """The counters the server keeps with its rows (migrations 0018 and 0019),
        for rows written here with plain SQL."""
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM schema_migrations WHERE version = 18")
        if cursor.fetchone()[0] == 0:
            return  # a binary from before the counters (a "before" run)
        for table in ("user_counters", "referral_counters"):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("INSERT INTO user_counters (name, shard, value) SELECT 'users', 0, COUNT(*) FROM users")
        cursor.execute("INSERT INTO user_counters (name, shard, value) "
                       "SELECT 'verified', 0, COUNT(*) FROM users WHERE is_verified = 1")
        cursor.execute("INSERT INTO referral_counters (name, shard, value) "
                       "SELECT status, 0, COUNT(*) FROM referrals GROUP BY status")
        cursor.execute("SELECT COUNT(*) FROM schema_migrations WHERE version = 19")
        if cursor.fetchone()[0] == 0:
            return  # a binary from before the reward counters
        cursor.execute("DELETE FROM reward_counters")
        cursor.execute("INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low) "
                       "SELECT reward_unit, status, 0, COUNT(*), CAST(SUM(reward_value / 4294967296) AS BIGINT), "
                       "CAST(SUM(reward_value % 4294967296) AS BIGINT) FROM rewards GROUP BY reward_unit, status")

    def seed_referrals(self, conn, ids: list[str], code_ids: list[str], referrers: int, now: int,
                       pending_from: int) -> None:
        """Referrals of ids[referrers:]; a third SUCCESS (credited) before
        `pending_from`, all PENDING after it: those rewards are what the
        credit scenario credits (self.credit_targets)."""
        referrals, rewards, stats = [], [], {}
        self.credit_targets = []
        for n in range(referrers, len(ids)):
            owner = n % referrers
            rid = str(uuid.uuid4())
            status = "SUCCESS" if n % 3 == 0 and n < pending_from else "PENDING"
            created = now - (n * 7919 % (90 * 86400)) * 1000
            referrals.append((rid, ids[n], f"User {n}", ids[owner], code_ids[owner], status, "", created, created))
            rewards.append((str(uuid.uuid4()), rid, ids[owner], "REFERRER", "SIGNUP", 100, "POINTS",
                            "CREDITED" if status == "SUCCESS" else "PENDING", created))
            if n >= pending_from:
                self.credit_targets.append(rewards[-1][0])
            total, success = stats.get(owner, (0, 0))
            stats[owner] = (total + 1, success + (status == "SUCCESS"))
        self.insert(conn, "referrals", ["id", "referee_id", "referee_name", "referrer_id", "code_id", "status", "ip",
                                        "created_at", "updated_at"], referrals)
        self.insert(conn, "rewards", ["id", "referral_id", "user_id", "beneficiary", "reward_type", "reward_value",
                                      "reward_unit", "status", "created_at"], rewards)
        self.insert(conn, "referrer_stats", ["user_id", "total", "successful", "pending", "rejected"],
                    [(ids[o], t, s, t - s, 0) for o, (t, s) in stats.items()])
        cursor = conn.cursor()
        cursor.execute("UPDATE referral_codes SET uses = (SELECT COUNT(*) FROM referrals r "
                       "WHERE r.code_id = referral_codes.id)")

    def seed_link_clicks(self) -> None:
        """About 100k clicks on the first referrer's link over the last 90 days,
        as the flusher leaves them: counters per quarter hour (the funnel reads
        these, never raw clicks)."""
        quarter, rng = 15 * 60 * 1000, random.Random(16)
        first = self.now_ms - self.now_ms % quarter - 90 * 96 * quarter
        conn = harness.connect_db(self.url)
        cursor = conn.cursor()
        cursor.execute(f"SELECT id FROM referral_codes WHERE user_id = '{self.busy_referrer}'")
        code_id = cursor.fetchone()[0]
        if self.url.startswith("sqlite://"):
            cursor.execute("BEGIN")
        else:
            conn.autocommit = False
        rows = [(code_id, first + n * quarter, rng.randint(5, 18), rng.randint(1, 5)) for n in range(90 * 96)]
        self.insert(conn, "link_counters", ["code_id", "bucket_at", "clicks", "unique_visitors"], rows)
        self.insert(conn, "link_totals", ["code_id", "clicks", "unique_visitors"],
                    [(code_id, sum(row[2] for row in rows), sum(row[3] for row in rows))])
        conn.commit()
        conn.close()


class ScaleSeeder(Seeder):
    """The scale data set of issue 5: `referrald-seed` (1M referrals, 100k
    referrers), plus sessions for the busiest referrers and fresh referees."""

    def seed(self, users: int, referrers: int, fresh_referees: int, credit_targets: int = 0) -> None:
        seed_tool = pathlib.Path(self.binary).with_name("referrald-seed")
        done = subprocess.run([str(seed_tool), "--database-url", self.url], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"referrald-seed failed: {done.stderr}")
        self.run_cli("migrate")
        chain_seeded_rewards(self.url, self.run_cli)
        conn = harness.connect_db(self.url)
        cursor = conn.cursor()
        cursor.execute(f"SELECT user_id FROM referrer_stats ORDER BY total DESC LIMIT {referrers}")
        busiest = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM users WHERE email = 'bench@seed.test'")
        bench_user = cursor.fetchone()[0]
        cursor.execute("SELECT id, password_hash FROM users WHERE email = 'admin@seed.test'")
        admin_id, password_hash = cursor.fetchone()
        cursor.execute("SELECT code FROM referral_codes ORDER BY code LIMIT 1")
        self.apply_code = cursor.fetchone()[0]
        if self.url.startswith("sqlite://"):
            cursor.execute("BEGIN")
        else:
            conn.autocommit = False
        now = self.now_ms
        fresh = [str(uuid.uuid4()) for _ in range(fresh_referees)]
        self.insert(conn, "users", ["id", "name", "email", "canonical_email", "password_hash", "is_verified",
                                    "is_admin", "created_at"],
                    [(uid, "Fresh", f"f{n}@bench.test", f"f{n}@bench.test", password_hash, 1, 0, now)
                     for n, uid in enumerate(fresh)])
        sessions = [(str(uuid.uuid4()), uid) for uid in busiest + fresh + [admin_id, bench_user]]
        self.insert(conn, "sessions", ["id", "user_id", "created_at", "expires_at", "last_seen_at", "ip", "user_agent"],
                    [(sid, uid, now, now + 30 * 86400000, now, "10.0.0.1", "bench") for sid, uid in sessions])
        self.insert(conn, "login_ips", ["user_id", "ip", "last_login_at"], [(uid, "10.0.0.1", now) for uid in busiest])
        self.recount(conn)
        conn.commit()
        cursor = conn.cursor()
        cursor.execute(f"SELECT code FROM referral_codes WHERE user_id IN ({','.join(['%s'] * APPLY_CODES)})"
                       .replace("%s", "?" if self.url.startswith("sqlite://") else "%s"), busiest[:APPLY_CODES])
        self.apply_codes = sorted(row[0] for row in cursor.fetchall())
        conn.close()
        token = {uid: mint(uid, sid, now // 1000) for sid, uid in sessions}
        self.tokens = {"referrers": [token[uid] for uid in busiest], "users": [token[uid] for uid in busiest],
                       "fresh": [token[uid] for uid in fresh], "admin": [token[admin_id]],
                       "funnel": [token[bench_user]]}
        self.login = ("admin@seed.test", "seed-password")
        cursor_conn = harness.connect_db(self.url)
        cursor = cursor_conn.cursor()
        cursor.execute(f"SELECT id FROM rewards WHERE status = 'PENDING' LIMIT {credit_targets}")
        self.credit_targets = [row[0] for row in cursor.fetchall()]
        cursor_conn.close()
        self.busy_referrer = busiest[0]
        self.event_users = fresh

    def seed_link_clicks(self) -> None:
        """referrald-seed wrote the clicks: 20M as counters, the latest 1M as raw
        rows, and 100k over 90 days for bench@seed.test (the funnel's referrer)."""


def process_cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postmaster_file(url: str) -> list[str] | None:
    """The postmaster.pid lines of the throwaway cluster serving `url`
    (harness.PostgresCluster), found by port: its pid, port and socket directory."""
    port = re.search(r":(\d+)/", url)
    for pid_file in pathlib.Path(tempfile.gettempdir()).glob("referrald-pg-*/data/postmaster.pid"):
        with contextlib.suppress(OSError):
            lines = pid_file.read_text().splitlines()
            if port and len(lines) > 4 and lines[3] == port.group(1):
                return lines
    return None


def postmaster_pid(url: str) -> int | None:
    lines = postmaster_file(url)
    return int(lines[0]) if lines else None


def server_database_url(url: str, connect: str) -> str:
    """The URL the server is given: `url` itself (loopback TCP) or, for
    `connect` "unix", the same database through the cluster's Unix socket,
    as a server on PostgreSQL's own machine is usually set up (docs/OPERATIONS.md)."""
    if connect != "unix" or not url.startswith("postgresql"):
        return url
    lines = postmaster_file(url)
    if not lines:
        raise SystemExit(f"no throwaway cluster serves {url}: its Unix socket is unknown")
    return f"postgresql://postgres@/{url.rsplit('/', 1)[1]}?host={lines[4]}&port={lines[3]}"


def cluster_cpu_seconds(postmaster: int | None) -> float:
    """CPU of a PostgreSQL cluster: the postmaster, its live children and the children it reaped."""
    if postmaster is None:
        return 0.0
    total = 0
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if pid == postmaster:
                total += sum(int(field) for field in fields[11:15])
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def thread_cpu_seconds(pid: int, name: str) -> float:
    """CPU of the server's threads called `name` (pthread_setname_np)."""
    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def parse_wrk(output: str) -> dict:
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": latency("50"), "p99": latency("99"),
            "requests": int(total.group(1)) if total else 0, "non2xx": int(errors.group(1)) if errors else 0}


def wrk(base: str, scenario: dict, duration: int, connections: int, threads: int, tokens_dir: pathlib.Path) -> dict:
    threads = scenario.get("threads", threads)
    env = dict(os.environ, BENCH_METHOD=scenario.get("method", "GET"), BENCH_PATH=scenario["path"],
               BENCH_THREADS=str(threads))
    if "body" in scenario:
        env["BENCH_BODY"] = scenario["body"]
    if "tokens" in scenario:
        path = tokens_dir / f"{scenario['name']}.tokens"
        path.write_text("\n".join(scenario["tokens"]) + "\n")
        env["BENCH_TOKENS"] = str(path)
    if scenario.get("unique"):
        env["BENCH_UNIQUE"] = "1"
    command = ["wrk", f"-t{threads}", f"-c{scenario.get('connections', connections)}", f"-d{duration}s",
               "--latency", "-s", str(LUA), base]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60)
    return parse_wrk(done.stdout)


def event_lines(credential: str, user_ids: list[str], count: int) -> list[str]:
    """`count` conversion events, each with its own external_id, spread over
    `user_ids`: "credential<TAB>body" lines for requests.lua."""
    lines = []
    for n in range(count):
        body = json.dumps({"type": "FIRST_ORDER", "external_id": f"bench-{uuid.uuid4().hex}",
                           "user_id": user_ids[n % len(user_ids)], "amount": 2599, "currency": "EUR"})
        lines.append(f"{credential}\t{body}")
    return lines


def event_scenarios(seeder: Seeder, duration: int) -> list[dict]:
    """The same events behind an admin token and behind an API key, run in
    the order admin, key, key, admin so that neither gains from going first
    or last (the database grows as they run); each on its own quarter of the
    users, so no run finds another's rewards."""
    if not seeder.api_key:
        return []
    quarter = len(seeder.event_users) // 4
    runs = [("admin-events", "/api/admin/events", seeder.tokens["admin"][0]),
            ("v1-events", "/api/v1/events", seeder.api_key),
            ("v1-events-2", "/api/v1/events", seeder.api_key),
            ("admin-events-2", "/api/admin/events", seeder.tokens["admin"][0])]
    return [{"name": name, "method": "POST", "path": path, "unique": True, "body": "{}",
             "tokens": event_lines(credential, seeder.event_users[n * quarter:(n + 1) * quarter], duration * 6000)}
            for n, (name, path, credential) in enumerate(runs)]


def scenarios(seeder: Seeder, duration: int = 10) -> list[dict]:
    tokens = seeder.tokens
    ninety_days_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=89)).date().isoformat()
    login_body = json.dumps({"email": seeder.login[0], "password": seeder.login[1]})
    return [
        {"name": "healthz", "path": "/healthz"},
        {"name": "verify-session", "method": "POST", "path": "/api/auth/verify-session", "tokens": tokens["users"]},
        {"name": "summary", "path": "/api/referral/analytics/summary", "tokens": tokens["referrers"]},
        {"name": "leaderboard", "path": "/api/admin/referral/top?limit=10", "tokens": tokens["admin"]},
        # Its target is a latency too (p99 < 5 ms at 1M rewards): one connection, as funnel-90d.
        {"name": "admin-stats", "path": "/api/admin/stats", "tokens": tokens["admin"], "connections": 1,
         "threads": 1},
        {"name": "list-page", "path": "/api/referral/analytics/list?limit=50", "tokens": tokens["referrers"]},
        {"name": "timeline", "path": "/api/referral/analytics/timeline?tz=America/New_York", "tokens": tokens["referrers"]},
        # A forged token on a db-lane route, as in a flood of them: every answer is a 401.
        {"name": "bad-token", "path": "/api/referral/analytics/timeline", "tokens": ["forged.bench.token"]},
        # Clicks are recorded (wrk sends no User-Agent: family "other", counted).
        {"name": "share-link", "path": f"/r/{seeder.apply_code}"},
        # A referrer with ~100k clicks over 90 days (seed_link_clicks). Its
        # target is a latency (p99 < 10 ms): one connection measures the
        # request, not its wait for a db thread behind 63 others.
        {"name": "funnel-90d", "path": f"/api/referral/analytics/funnel?tz=America/New_York&from={ninety_days_ago}",
         "tokens": tokens.get("funnel", tokens["referrers"][:1]), "connections": 1, "threads": 1},
        {"name": "reward-history", "path": "/api/rewards/history?limit=50", "tokens": tokens["referrers"]},
        *event_scenarios(seeder, duration),
        # Fresh referees (each applies once) spread over APPLY_CODES codes, at
        # -c32 and -c64; tokens are taken from the fresh pool per run.
        {"name": "apply", "method": "POST", "path": "/api/referral/apply", "fresh": True, "connections": 32},
        {"name": "apply-c64", "method": "POST", "path": "/api/referral/apply", "fresh": True, "connections": 64},
        {"name": "login", "method": "POST", "path": "/api/auth/login", "connections": 16, "body": login_body},
        # Each request credits another PENDING reward (one ledger entry each).
        {"name": "credit", "method": "POST", "path": "/api/admin/rewards/-/credit", "unique": True,
         "tokens": [f"{tokens['admin'][0]}\t\t/api/admin/rewards/{reward_id}/credit"
                    for reward_id in seeder.credit_targets]},
    ]


def take_raw_fresh(seeder: Seeder, count: int) -> list[str]:
    """`count` fresh referees' tokens that no run used yet."""
    taken, seeder.tokens["fresh"] = seeder.tokens["fresh"][:count], seeder.tokens["fresh"][count:]
    return taken


def take_fresh(seeder: Seeder, count: int) -> list[str]:
    """`count` unused fresh referees' tokens, each with its own apply body
    ("token<TAB>body", bench/lua/requests.lua), the codes taken in turn."""
    codes = seeder.apply_codes
    return [f"{token}\t{json.dumps({'referral_code': codes[n % len(codes)]})}"
            for n, token in enumerate(take_raw_fresh(seeder, count))]


def metric_values(base: str, prefix: str) -> dict:
    """The unlabelled samples of /metrics whose names start with `prefix`."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
            if line.startswith(prefix)}


def click_counts(base: str) -> dict:
    """The click stream's counters from /metrics, after a flush interval."""
    time.sleep(1.5)
    return metric_values(base, "click")


def start_server(binary: str, url: str, workdir: pathlib.Path, extra: dict) -> subprocess.Popen:
    # Every fraud rule keeps its default (on), as a deployment has them:
    # apply is measured with same-IP, burst, cycles, aliases and the window.
    env = harness.server_env({"DATABASE_URL": url, "JWT_SECRET": SECRET, "PORT": "0", "RATE_LIMIT_PER_IP": "0",
                              "LOGIN_MAX_FAILURES": "1000000", "HASH_QUEUE_LIMIT": "100000",
                              "API_KEY_RATE_LIMIT": "0", **extra},
                             defaults=False)
    env["HOST"] = "127.0.0.1"
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for raw in (workdir / "server.log").read_text(errors="replace").splitlines():
            if '"msg":"listening"' in raw:
                proc.port = json.loads(raw)["port"]
                return proc
        time.sleep(0.05)
    raise SystemExit("server did not start:\n" + (workdir / "server.log").read_text()[-2000:])


def storm(base: str, seeder: Seeder, duration: int, threads: int, tokens_dir: pathlib.Path) -> dict:
    """/healthz and verify-session latency while logins saturate the hashing pool."""
    login = {"name": "login-storm", "method": "POST", "path": "/api/auth/login", "connections": 32,
             "body": json.dumps({"email": seeder.login[0], "password": seeder.login[1]})}
    results = {}
    background = threading.Thread(target=lambda: results.update(
        login=wrk(base, login, duration + 2, 32, 1, tokens_dir)))
    background.start()
    time.sleep(1)
    results["healthz"] = wrk(base, {"name": "storm-healthz", "path": "/healthz", "connections": 4},
                             duration, 4, 1, tokens_dir)
    results["verify-session"] = wrk(base, {"name": "storm-verify", "method": "POST",
                                           "path": "/api/auth/verify-session", "tokens": seeder.tokens["users"],
                                           "connections": 4}, duration, 4, 1, tokens_dir)
    background.join()
    return results


class WaitSampler:
    """What the server's PostgreSQL sessions are doing, sampled every 20 ms
    from a connection of its own (pg_stat_activity): running, waiting on a
    lock (and in which statement), or idle inside a transaction (waiting for
    the server's next statement). Its own queries are part of the cluster's
    CPU; --pg-waits only."""

    QUERY = ("SELECT state, COALESCE(wait_event_type || ':' || wait_event, 'cpu'), "
             "CASE WHEN wait_event_type = 'Lock' THEN left(regexp_replace(query, '\\s+', ' ', 'g'), 70) "
             "ELSE '' END FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")

    def __init__(self, url: str):
        self.url = url
        self.counts: dict[tuple, int] = {}
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with contextlib.closing(harness.connect_db(self.url)) as conn, conn.cursor() as cursor:
            while not self.stop.wait(0.02):
                cursor.execute(self.QUERY)
                self.samples += 1
                for state, wait, query in cursor.fetchall():
                    key = (state, wait if state == "active" else "", query)
                    self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self) -> "WaitSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def table(self) -> list[str]:
        """Sessions in each state on average over the samples, most first."""
        rows = sorted(self.counts.items(), key=lambda item: -item[1])
        return [f"| {state} | {wait} | {query} | {count / max(self.samples, 1):.2f} |"
                for (state, wait, query), count in rows if count / max(self.samples, 1) >= 0.01]


# Reads that send tokens are measured warm. A token's first request reads
# its session and writes its last_seen_at on the db lane; on PostgreSQL the
# session cache then answers it from memory (for SESSION_CACHE_TTL, 60 s),
# so a short run over thousands of tokens measured mostly those first
# requests: verify-session went from 0.06x to 0.58x between runs of one
# binary (docs/PERFORMANCE.md, "CHECK constraints as domains").
WARM_UP_SECONDS = 2


def warms_up(scenario: dict) -> bool:
    reads = scenario.get("method", "GET") == "GET" or scenario["name"] == "verify-session"
    return reads and "tokens" in scenario and not scenario.get("unique") and not scenario.get("fresh")


def measured(base: str, pid: int, scenario: dict, args, workdir: pathlib.Path,
             postmaster: int | None = None, waits_url: str | None = None) -> dict:
    """One wrk run (after a warm-up, see warms_up); CPU per request of the
    server and (PostgreSQL) of the whole cluster."""
    if warms_up(scenario):
        wrk(base, scenario, WARM_UP_SECONDS, args.connections, args.threads, workdir)
    cpu_before, db_cpu_before = process_cpu_seconds(pid), cluster_cpu_seconds(postmaster)
    with WaitSampler(waits_url) if waits_url else contextlib.nullcontext() as sampler:
        result = wrk(base, scenario, args.duration, args.connections, args.threads, workdir)
    result["waits"] = sampler.table() if sampler else []
    cpu = process_cpu_seconds(pid) - cpu_before
    db_cpu = cluster_cpu_seconds(postmaster) - db_cpu_before
    result["cpu_us"] = cpu * 1e6 / result["requests"] if result["requests"] else float("nan")
    result["db_cpu_us"] = db_cpu * 1e6 / result["requests"] if result["requests"] else float("nan")
    return result


def rule_costs(args, seeder: Seeder, url: str, workdir: pathlib.Path, server: subprocess.Popen,
               fresh: int) -> list[tuple[str, dict]]:
    """Apply at -c32 with each fraud rule off in turn (a server per rule)."""
    server.terminate()
    server.wait(30)
    rows = []
    for rule, setting in RULES_OFF.items():
        server = start_server(args.binary, server_database_url(url, args.pg_connect), workdir,
                              {"SQLITE_SYNCHRONOUS": args.sync, **setting})
        try:
            scenario = {"name": f"apply-no-{rule}", "method": "POST", "path": "/api/referral/apply",
                        "connections": 32, "tokens": take_fresh(seeder, fresh), "unique": True, "body": "{}"}
            rows.append((rule, measured(f"http://127.0.0.1:{server.port}", server.pid, scenario, args, workdir)))
            print(f"  apply without {rule}: {rows[-1][1]['rps']:.0f} req/s", flush=True)
        finally:
            server.terminate()
            server.wait(30)
    return rows


def scratch_database(stack: contextlib.ExitStack, backend: str, name: str,
                     durable: bool = False) -> tuple[pathlib.Path, str]:
    """A temporary work directory and an empty database (a throwaway
    PostgreSQL cluster, or an SQLite file in the directory), both removed
    when `stack` closes. The test cluster runs without fsync; `durable`
    turns fsync, synchronous_commit and full_page_writes back on."""
    workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"referrald-{name}-")))
    if backend == "postgresql":
        cluster = harness.PostgresCluster()
        stack.callback(cluster.destroy)
        if durable:
            with contextlib.closing(cluster.connect()) as conn, conn.cursor() as cursor:
                conn.autocommit = True
                for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                    cursor.execute(f"ALTER SYSTEM SET {setting} = on")
                cursor.execute("SELECT pg_reload_conf()")
        return workdir, cluster.create_database()
    return workdir, f"sqlite://{workdir / (name + '.db')}"


def add_pg_connect_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pg-connect", choices=["unix", "tcp"], default="unix",
                        help="how the server reaches PostgreSQL: its Unix socket (default) or loopback TCP; "
                             "the seeding always uses TCP")


def load_arguments(description: str) -> argparse.ArgumentParser:
    """The options every wrk-driven script here shares (bench, cluster_bench)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / "build" / "release" / "referrald"))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--referrers", type=int, default=2000)
    return parser


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--sync", default="FULL", help="SQLITE_SYNCHRONOUS")
    parser.add_argument("--pg-durable", action="store_true",
                        help="PostgreSQL with fsync, synchronous_commit and full_page_writes on (the test cluster's are off)")
    parser.add_argument("--apply-rules", action="store_true",
                        help="after the scenarios, apply at -c32 with each fraud rule off in turn")
    parser.add_argument("--scale", action="store_true",
                        help="seed with referrald-seed (1M referrals, 100k referrers) instead of --users")
    parser.add_argument("--pg-waits", action="store_true",
                        help="PostgreSQL: sample what the server's sessions wait on during each route (pg_stat_activity)")
    add_pg_connect_argument(parser)
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="one more server setting, e.g. SESSION_CACHE_SIZE=0 (repeatable)")
    args = parser.parse_args()
    args.binary = str(pathlib.Path(args.binary).resolve())
    wanted = set(filter(None, args.scenarios.split(",")))
    with contextlib.ExitStack() as stack:
        workdir, url = scratch_database(stack, args.backend, "bench", args.pg_durable)
        fresh = max(args.duration * 6000, 20000)  # per apply run
        apply_runs = 2 + (len(RULES_OFF) if args.apply_rules else 0)
        seeder = (ScaleSeeder if args.scale else Seeder)(url, args.binary, workdir)
        started = time.monotonic()
        seeder.seed(args.users, args.referrers, fresh * apply_runs, fresh)
        seeder.seed_link_clicks()
        seeder.make_api_key()
        print(f"seeded in {time.monotonic() - started:.1f}s ({args.backend}, "
              f"{'referrald-seed scale set' if args.scale else f'{args.users} users'})", flush=True)
        settings = dict(setting.split("=", 1) for setting in args.server_env)
        server = start_server(args.binary, server_database_url(url, args.pg_connect), workdir,
                              {"SQLITE_SYNCHRONOUS": args.sync, **settings})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        base = f"http://127.0.0.1:{server.port}"
        rows = []
        healthz_rps = None
        postmaster = postmaster_pid(url) if args.backend == "postgresql" else None
        click_db_cpu = 0.0
        for scenario in scenarios(seeder, args.duration):
            if wanted and scenario["name"] not in wanted and scenario["name"] != "healthz":
                continue
            if scenario.get("fresh"):
                scenario = {**scenario, "tokens": take_fresh(seeder, fresh), "unique": True, "body": "{}"}
            if scenario["name"] == "share-link":
                click_db_cpu = -cluster_cpu_seconds(postmaster)
            result = measured(base, server.pid, scenario, args, workdir, postmaster,
                              url if args.pg_waits and postmaster else None)
            if scenario["name"] == "healthz":
                healthz_rps = result["rps"]
            rows.append((scenario["name"], result))
            print(f"  {scenario['name']}: {result['rps']:.0f} req/s", flush=True)
        clicks = click_counts(base)
        pipelined = metric_values(base, "db_pipelined")
        click_db_cpu += cluster_cpu_seconds(postmaster)
        flusher_cpu = thread_cpu_seconds(server.pid, "click-flusher")
        storm_results = storm(base, seeder, args.duration, args.threads, workdir) \
            if not wanted or "storm" in wanted else None
        if server.poll() is not None:
            print((workdir / "server.log").read_text(errors="replace")[-3000:])
            raise SystemExit(f"referrald died during the run (exit {server.returncode})")
        rule_rows = rule_costs(args, seeder, url, workdir, server, fresh) if args.apply_rules else []
    print(f"\n{args.backend}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"SQLITE_SYNCHRONOUS={args.sync}, PostgreSQL fsync {'on' if args.pg_durable else 'off'} "
          f"over {'its Unix socket' if args.pg_connect == 'unix' else 'loopback TCP'}\n")
    print("| route | req/s | p50 ms | p99 ms | × /healthz | CPU µs/req | db CPU µs/req | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        ratio = r["rps"] / healthz_rps if healthz_rps else float("nan")
        db_cpu = f"{r['db_cpu_us']:.1f}" if postmaster else "-"
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {ratio:.2f} | {r['cpu_us']:.0f} "
              f"| {db_cpu} | {r['non2xx']} |")
    for name, r in rows:
        if r["waits"]:
            print(f"\n{name}: the server's PostgreSQL sessions, on average per 20 ms sample\n")
            print("| state | running or waiting on | statement waiting on a lock | sessions |")
            print("|---|---|---|---:|")
            print("\n".join(r["waits"]))
    flushed = clicks.get("clicks_flushed_total", 0)
    print(f"\nshare-link clicks: flushed {flushed:.0f}, "
          f"dropped {clicks.get('clicks_dropped_total', 0):.0f}, "
          f"still buffered {clicks.get('clicks_buffered', 0):.0f}")
    if flushed:
        print(f"CPU per flushed click: flusher thread {flusher_cpu * 1e6 / flushed:.2f} µs"
              + (f", PostgreSQL {click_db_cpu * 1e6 / flushed:.2f} µs (share-link run and the drain after it)"
                 if postmaster else ""))
    if pipelined:
        print(f"pipelined reads (summary, list page, admin stats): {pipelined.get('db_pipelined_reads_total', 0):.0f} answered "
              f"on the io threads, {pipelined.get('db_pipelined_read_fallbacks_total', 0):.0f} sent there but run "
              "on the db lane (the connection not up yet); the others, whose session was not in memory yet "
              "(a token's first request), ran on the db lane")
    if rule_rows:
        print("\nWhat each fraud rule costs: apply (-c32) with that rule off, the others on:\n")
        print("| rule off | req/s | p99 ms | CPU µs/req | non-2xx |")
        print("|---|---:|---:|---:|---:|")
        for name, r in rule_rows:
            print(f"| {name} | {r['rps']:.0f} | {r['p99']:.2f} | {r['cpu_us']:.0f} | {r['non2xx']} |")
    if storm_results:
        print("\nDuring a login storm (wrk -c32 on /api/auth/login):\n")
        print("| route | req/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|")
        for name, r in storm_results.items():
            print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")


if __name__ == "__main__":
    main()
