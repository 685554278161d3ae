"""Webhook receivers that cost far less CPU than the server: one nginx.

nginx (as tests/cluster/cluster.py starts it: foreground, its own prefix in a
temp dir) listens on one loopback port per receiver, answers every request
200 at once and writes an access log line per request: arrival time ($msec),
the `webhook-id` header and the status. The benchmark reads the logs after
stopping nginx (which flushes them). Signatures are not checked here: the API
tests (tests/api/test_webhooks.py) verify every one with a Python receiver.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "api"))
import harness  # noqa: E402  (free_port)

NGINX = os.environ.get("REFERRALD_NGINX", "/usr/sbin/nginx")

CONF = """\
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format hook '$msec $http_webhook_id $status';
    client_body_temp_path {root}/client_body;
    client_body_buffer_size 64k;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
{servers}
}}
"""

SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        access_log {log} hook buffer=256k;
        location / {{ return 200 "ok"; }}
    }}"""


@dataclasses.dataclass(frozen=True)
class Arrival:
    at: float         # seconds since the epoch, millisecond resolution
    webhook_id: str
    status: int


class NginxSink:
    """`count` receivers on one nginx; `urls[i]` is receiver i's webhook URL."""

    def __init__(self, count: int) -> None:
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="referrald-sink-"))
        self.root.chmod(0o755)  # as root, nginx's worker runs as nobody
        self.ports = [harness.free_port() for _ in range(count)]
        servers = "\n".join(SERVER.format(port=port, log=self._log(n)) for n, port in enumerate(self.ports))
        conf = self.root / "nginx.conf"
        conf.write_text(CONF.format(root=self.root, servers=servers), encoding="utf-8")
        self.proc = subprocess.Popen([NGINX, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log"),
                                      "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_listening()
        self.urls = [f"http://127.0.0.1:{port}/hook" for port in self.ports]

    def _log(self, n: int) -> pathlib.Path:
        return self.root / f"hook-{n}.log"

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise SystemExit(f"nginx exited: {(self.root / 'error.log').read_text(errors='replace')}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not listen on {port} within {timeout}s")
                time.sleep(0.02)

    def stop(self) -> list[list[Arrival]]:
        """Stops nginx (flushing the logs) and returns each receiver's arrivals."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        arrivals = []
        for n in range(len(self.ports)):
            rows = []
            for line in self._log(n).read_text().splitlines():
                at, webhook_id, status = line.split(" ")
                rows.append(Arrival(float(at), webhook_id, int(status)))
            arrivals.append(rows)
        shutil.rmtree(self.root, ignore_errors=True)
        return arrivals
