"""Runs the real referrald binary against throwaway databases.

Everything here is stdlib + requests + psycopg2 (Debian's python3 packages).
The binary and the backend come from the environment, so CTest can run the
same tests against a release and a sanitizer build, on SQLite and PostgreSQL:

  REFERRALD_BINARY        path of the binary (default build/release/referrald)
  REFERRALD_TEST_BACKEND  sqlite (default) | postgresql
  REFERRALD_PG_BIN        PostgreSQL's bin dir (default /usr/lib/postgresql/15/bin)
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
PG_BIN = pathlib.Path(os.environ.get("REFERRALD_PG_BIN", "/usr/lib/postgresql/15/bin"))

# Sanitizer builds start several times slower; a hung start still fails.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# The origin test servers take as their own: cookie-authenticated writes
# must name it in Origin or Referer (the default, http://HOST:PORT, would
# say port 0).
PUBLIC_URL = "https://referrald.test"

# What every test server gets unless a test says otherwise: an ephemeral
# loopback port, console mail and cheap password hashing.
SERVER_DEFAULTS = {
    "HOST": "127.0.0.1",
    "PORT": "0",
    "PUBLIC_URL": PUBLIC_URL,
    "EMAIL_BACKEND": "console",
    "ALLOW_WEAK_PASSWORD_HASHING": "true",
    "ARGON2_OPS": "1",
    "ARGON2_MEMORY_KIB": "64",
}

# Only these pass from the caller's environment: a DATABASE_URL or PORT in
# the developer's shell must not leak into a test server.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR",
                  "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH", "TSAN_OPTIONS")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


def binary() -> str:
    path = os.environ.get("REFERRALD_BINARY") or str(REPO / "build" / "release" / "referrald")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"referrald binary not found or not executable: {path} "
                           "(build it, or set REFERRALD_BINARY)")
    return path


def backend() -> str:
    name = os.environ.get("REFERRALD_TEST_BACKEND", "sqlite")
    if name not in ("sqlite", "postgresql"):
        raise RuntimeError(f"REFERRALD_TEST_BACKEND must be sqlite or postgresql, not {name!r}")
    return name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(overrides: dict | None = None, defaults: bool = True) -> dict:
    """The environment for a referrald process; a value of None removes a name."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    if defaults:
        env.update(SERVER_DEFAULTS)
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def sanitizer_report(text: str) -> str | None:
    for marker in SANITIZER_MARKERS:
        at = text.find(marker)
        if at >= 0:
            return text[max(0, at - 200):at + 4000]
    return None


def migration_versions() -> set[int]:
    return {int(path.name.split("_", 1)[0]) for path in (REPO / "migrations").glob("*.sql")}


# --------------------------------------------------------------------------
# PostgreSQL


class PostgresCluster:
    """A throwaway PostgreSQL 15: its own data dir, a free loopback port, trust
    auth, no fsync. PostgreSQL refuses to run as root, so as root every
    command runs as the `postgres` user."""

    _names = itertools.count(1)

    def __init__(self) -> None:
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="referrald-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self.sockets.mkdir()
        if self._as_root:
            for path in (self.root, self.sockets):
                shutil.chown(path, "postgres", "postgres")
        try:
            self._init_data()
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(
                    "\n# referrald test cluster\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"port = {self.port}\n"
                    f"unix_socket_directories = '{self.sockets}'\n"
                    "max_connections = 200\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
            self.start()
        except BaseException:
            self.destroy()
            raise

    def _init_data(self) -> None:
        """Creates the data directory (a subclass may copy a primary's instead)."""
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync", "--locale=C")

    def _pg(self, tool: str, *args: str, timeout: float = 120) -> str:
        command = [str(PG_BIN / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}")
        return done.stdout

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        import psycopg2  # only the postgresql backend needs it

        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                                connect_timeout=5)

    def create_database(self) -> str:
        name = f"referrald_{os.getpid()}_{next(self._names)}"
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------
# Databases


class Databases:
    """Hands out a fresh, empty database per server."""

    def __init__(self, backend_name: str, cluster: PostgresCluster | None, scratch: pathlib.Path):
        self.backend = backend_name
        self.cluster = cluster
        self.scratch = scratch
        self._names = itertools.count(1)

    def new_url(self) -> str:
        if self.backend == "postgresql":
            return self.cluster.create_database()
        folder = self.scratch / f"db{next(self._names)}"
        folder.mkdir(parents=True)
        return f"sqlite://{folder / 'referrald.db'}"


def connect_db(database_url: str):
    """A DB-API connection to what the server uses (sqlite3 or psycopg2)."""
    if database_url.startswith("sqlite://"):
        conn = sqlite3.connect(database_url[len("sqlite://"):], timeout=10)
        conn.isolation_level = None  # autocommit, like the psycopg2 side below
        return conn
    import psycopg2

    conn = psycopg2.connect(database_url, connect_timeout=5)
    conn.autocommit = True
    return conn


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Runs one statement; write `%s` placeholders, they work on both engines."""
    with contextlib.closing(connect_db(database_url)) as conn:
        if database_url.startswith("sqlite://"):
            sql = sql.replace("%s", "?")
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()


# --------------------------------------------------------------------------
# The server process


def mails_of(servers: list["Server"]) -> list[dict]:
    """The console mails these servers logged, oldest first."""
    sent = [line for server in servers for line in server.lines() if line.get("msg") == "email"]
    return sorted(sent, key=lambda line: line.get("ts", ""))


class ServerDied(AssertionError):
    pass


class Server:
    """One referrald process; its stdout and stderr go to `log_path`."""

    # Every server started on each database, so mail can be read from all of
    # them: the outbox is shared, and either instance may send a message the
    # other queued (a CI run lost a sign-up code that way).
    _on_database: dict[str, list["Server"]] = collections.defaultdict(list)

    def __init__(self, workdir: pathlib.Path, database_url: str, env: dict, args: list[str]):
        self.workdir = workdir
        self.database_url = database_url
        Server._on_database[database_url].append(self)
        self.env = env
        self.args = args
        self.log_path = workdir / "server.log"
        self.port: int | None = None
        self.exit_code: int | None = None
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary(), *args], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    # -- startup

    def wait_listening(self, timeout: float = START_TIMEOUT) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if line.get("msg") == "listening":
                    self.port = int(line["port"])
                    return self
            if self.proc.poll() is not None:
                self._closed()
                raise ServerDied(f"referrald exited with {self.proc.returncode} before listening:\n"
                                 f"{self.log_text()[-4000:]}")
            time.sleep(0.02)
        raise ServerDied(f"referrald did not log 'listening' within {timeout}s:\n{self.log_text()[-4000:]}")

    # -- what tests use

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def metric(self, name: str) -> float | None:
        """An unlabelled series from /metrics; None when this server does not export it."""
        with urllib.request.urlopen(self.url("/metrics"), timeout=30) as answer:
            text = answer.read().decode()
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def lines(self) -> list[dict]:
        """The JSON log lines so far (other lines, e.g. stderr, are skipped)."""
        out = []
        for raw in self.log_text().splitlines():
            if raw.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(raw))
        return out

    def mails(self) -> list[dict]:
        """The console mails of every instance on this database, oldest first."""
        return mails_of(Server._on_database[self.database_url])

    def wait_for_line(self, predicate, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines():
                if predicate(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching log line within {timeout}s:\n{self.log_text()[-3000:]}")
            time.sleep(0.02)

    def db(self):
        return connect_db(self.database_url)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return query(self.database_url, sql, params)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        finally:
            self._closed()
        return self.exit_code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Sends `sig` and returns the exit code (negative: killed by a signal)."""
        if self.proc.poll() is None:
            self.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"referrald did not exit within {timeout}s of signal {sig}:\n"
                                 f"{self.log_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._closed()

    def _closed(self) -> None:
        if not self._log.closed:
            self._log.close()


class ServerPool:
    """Starts servers for one fixture scope and always cleans them up: at the
    end each one still running gets SIGTERM and must exit 0 with no sanitizer
    report, or the teardown fails loudly with its log."""

    def __init__(self, databases: Databases, scratch: pathlib.Path):
        self.databases = databases
        self.scratch = scratch
        self.servers: list[Server] = []
        self._names = itertools.count(1)

    def start(self, env: dict | None = None, args: list[str] | tuple = ("serve",),
              database_url: str | None = None, wait: bool = True,
              files: dict[str, str] | None = None) -> Server:
        workdir = self.scratch / f"server{next(self._names)}"
        workdir.mkdir(parents=True)
        for name, text in (files or {}).items():
            (workdir / name).write_text(text, encoding="utf-8")
        url = database_url or self.databases.new_url()
        full_env = server_env({"DATABASE_URL": url, **(env or {})})
        server = Server(workdir, full_env.get("DATABASE_URL", url), full_env, list(args))
        self.servers.append(server)
        return server.wait_listening() if wait else server

    def close(self) -> None:
        problems = []
        for server in self.servers:
            try:
                if server.alive():
                    code = server.stop()
                    if code != 0:
                        problems.append(f"exit code {code} on SIGTERM")
                report = sanitizer_report(server.log_text())
                if report:
                    problems.append("sanitizer report:\n" + report)
            except AssertionError as error:
                problems.append(str(error))
            finally:
                server.kill()
            if problems:
                problems.append(f"(log: {server.log_path})\n{server.log_text()[-3000:]}")
                break
        for server in self.servers:
            server.kill()
        if problems:
            raise AssertionError("\n".join(problems))


def run_cli(args: list[str], env: dict | None = None, cwd: pathlib.Path | None = None,
            timeout: float = 60, defaults: bool = True) -> subprocess.CompletedProcess:
    """Runs a one-shot command (migrate, routes, --version, a bad config)."""
    return subprocess.run([binary(), *args], env=server_env(env, defaults), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
