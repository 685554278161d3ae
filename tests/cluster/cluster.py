"""The parts of a small referrald cluster on one machine: a streaming replica
of the harness's PostgreSQL, nginx round-robin in front of several
instances, and `Front`, which lets the API tests' flows talk to the cluster
as if it were one server.

Everything is a real process on loopback ports in temp directories; the
PostgreSQL and referrald processes come from tests/api/harness.py.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable

import harness

NGINX = os.environ.get("REFERRALD_NGINX", "/usr/sbin/nginx")
PGBOUNCER = os.environ.get("REFERRALD_PGBOUNCER", "/usr/sbin/pgbouncer")


class StreamingReplica(harness.PostgresCluster):
    """A hot standby of `primary`: pg_basebackup -R copies its data directory
    and writes the standby.signal and primary_conninfo that make it stream.
    The copied postgresql.conf names the primary's port; the harness appends
    the replica's own port after it, and the later line wins."""

    def __init__(self, primary: harness.PostgresCluster) -> None:
        self.primary = primary
        super().__init__()

    def _init_data(self) -> None:
        self._pg("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                 "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")

    def pause_replay(self, paused: bool = True) -> None:
        """Stops (or resumes) applying the primary's WAL: reads see the data as of now."""
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")

    def wait_replayed(self, timeout: float = 10.0) -> None:
        """Returns once the replica has replayed every commit the primary has
        made so far. The insert position, not the write position: the test
        primary commits asynchronously (synchronous_commit = off), so a commit
        the server acknowledged may not be written out yet. WAL past the last
        asynchronous commit (e.g. a checkpointer's running-xacts record) may
        stay unflushed, so unsent, indefinitely: one synchronous commit after
        reading the target flushes everything before it."""
        with contextlib.closing(self.primary.connect()) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()")
            target = cursor.fetchone()[0]
            cursor.execute("SET LOCAL synchronous_commit = on")
            cursor.execute("SELECT txid_current()")
            conn.commit()
        deadline = time.monotonic() + timeout
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                while True:
                    cursor.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", (target,))
                    if cursor.fetchone()[0]:
                        return
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the replica did not replay up to {target} within {timeout}s")
                    time.sleep(0.02)


# The nginx settings docs/OPERATIONS.md recommends, minus TLS. A refused
# connection is never a sent request, so proxy_next_upstream's `error` moves
# even a POST to the next instance; after max_fails the dead one rests for
# fail_timeout. Upstream keep-alive connections idle less long than the
# server's IDLE_TIMEOUT (60 s), so nginx never reuses one the server closed.
NGINX_CONF = """\
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    upstream referrald {{
{servers}
        keepalive 32;
        keepalive_timeout 30s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 64k;
        location / {{
            proxy_pass http://referrald;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-Id $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
        location ^~ /metrics {{ return 404; }}
    }}
}}
"""


class ForegroundProcess:
    """A server this module runs in the foreground, its files in the temp dir
    `root`, listening on the loopback `port`; a subclass sets both, then
    calls `_start`."""

    name = ""  # for messages
    log_name = ""  # its log file in `root`

    root: pathlib.Path
    port: int
    proc: subprocess.Popen

    def _start(self, command: list[str], timeout: float = 10.0) -> None:
        """Runs `command` and returns once it accepts connections; stops it when it does not."""
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not listen on {self.port} within {timeout}s:\n{self.log()}")
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        """The end of its log."""
        path = self.root / self.log_name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM (a fast shutdown for both), then SIGKILL; the temp dir goes with it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


class Nginx(ForegroundProcess):
    """nginx in the foreground (`daemon off`) with its own prefix, config and
    logs in a temp dir. As root its worker runs as `nobody`, so the prefix is
    world-readable (nginx creates the temp paths inside it for the worker)."""

    name = "nginx"
    log_name = "error.log"

    def __init__(self, upstream_ports: list[int]) -> None:
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="referrald-nginx-"))
        self.root.chmod(0o755)
        self.port = harness.free_port()
        conf = self._write_conf(upstream_ports)
        self._start([NGINX, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / self.log_name),
                     "-g", "daemon off;"])

    def _write_conf(self, upstream_ports: list[int]) -> pathlib.Path:
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
                            for port in upstream_ports)
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, servers=servers, port=self.port), encoding="utf-8")
        return conf

    def route_to(self, upstream_ports: list[int], timeout: float = 10.0) -> None:
        """Reloads nginx with these upstreams (SIGHUP, as `nginx -s reload`)
        and returns once the old worker has finished its requests and exited:
        from then on no connection reaches an instance left out."""
        started, exited = self._log_count("start worker process"), self._log_count("exited with code")
        self._write_conf(upstream_ports)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self._log_count("start worker process") <= started or self._log_count("exited with code") <= exited:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx did not reload within {timeout}s:\n{self.log()}")
            time.sleep(0.02)

    def _log_count(self, text: str) -> int:
        return (self.root / self.log_name).read_text(errors="replace").count(text)


# PgBouncer in transaction mode, as docs/OPERATIONS.md ("Behind PgBouncer")
# runs it: a server connection belongs to a client for one transaction only.
PGBOUNCER_INI = """\
[databases]
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


class PgBouncer(ForegroundProcess):
    """PgBouncer in the foreground in front of `primary`, on its own loopback
    port. It refuses to run as root, so as root it runs as `postgres` (-u)."""

    name = "pgbouncer"
    log_name = "pgbouncer.log"

    def __init__(self, primary: harness.PostgresCluster) -> None:
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="referrald-pgbouncer-"))
        self.port = harness.free_port()
        (self.root / "userlist.txt").write_text('"postgres" ""\n', encoding="utf-8")
        conf = self.root / "pgbouncer.ini"
        conf.write_text(PGBOUNCER_INI.format(pg_port=primary.port, port=self.port, root=self.root), encoding="utf-8")
        command = [PGBOUNCER, str(conf)]
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            command[1:1] = ["-u", "postgres"]
        self._start(command)

    def url(self, database_url: str) -> str:
        """`database_url` (a database on the primary) reached through PgBouncer."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database_url.rsplit('/', 1)[1]}"


class Front:
    """The cluster seen as one server by tests/api's flows: HTTP goes through
    nginx, SQL to the primary, and `lines()` and `mails()` merge the instances' logs
    (whichever instance's mail sender claims an email logs it)."""

    def __init__(self, nginx: Nginx, instances: list[harness.Server],
                 spawn: Callable[[], harness.Server]) -> None:
        self.nginx = nginx
        self.instances = instances
        self.spawn = spawn
        self.database_url = instances[0].database_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def lines(self) -> list[dict]:
        return [line for server in self.instances for line in server.lines()]

    def mails(self) -> list[dict]:
        return harness.mails_of(self.instances)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return harness.query(self.database_url, sql, params)
