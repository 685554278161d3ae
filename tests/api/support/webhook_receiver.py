"""A webhook receiver on loopback that checks every signature, for the API tests.

Python standard library only. It verifies each request the way a receiver
following the Standard Webhooks specification does: the `webhook-signature`
header holds one or more `v1,<base64>` signatures of "id.timestamp.body"
(HMAC-SHA256 keyed with the base64-decoded part of a `whsec_` secret), and
the timestamp is recent. Each request is kept with the secrets whose
signature it carried, so tests assert on both.

Example::

    from support.webhook_receiver import WebhookReceiver

    receiver = WebhookReceiver()
    url = receiver.start()                 # http://127.0.0.1:<port>/hook
    receiver.secrets.append(created["secret"])
    receiver.script = [500, 500]           # answer 500 twice, then 200
    hits = receiver.wait_for(lambda hits: len(hits) >= 3, timeout=10)
    assert all(hit.valid for hit in hits)
    receiver.hang = 30                     # hold the next requests for 30 s
    receiver.stop()
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import http.server
import json
import threading
import time

TOLERANCE_SECONDS = 300


@dataclasses.dataclass(frozen=True)
class Hit:
    """One request received."""

    webhook_id: str
    timestamp: int
    signatures: tuple[str, ...]
    body: bytes
    signed_by: tuple[str, ...]   # the known secrets whose signature is in the header
    answered: int                # the status the receiver answered
    at: float                    # time.time() on arrival

    @property
    def valid(self) -> bool:
        return bool(self.signed_by) and abs(time.time() - self.timestamp) <= TOLERANCE_SECONDS

    @property
    def event(self) -> dict:
        return json.loads(self.body)


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


class WebhookReceiver:
    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.script: list[int] = []  # statuses to answer first, in order; then `status`
        self.status = 200
        self.hang = 0.0              # seconds to hold each request before answering
        self.arrived = 0             # requests read so far, answered or still held
        self.hits: list[Hit] = []
        self._lock = threading.Condition()
        self._server: http.server.ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> str:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, hang = receiver._answer_for()
                if hang:
                    time.sleep(hang)
                receiver._keep(self.headers, body, status)
                # A sender that timed out has closed the connection by now.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer_for(self) -> tuple[int, float]:
        with self._lock:
            self.arrived += 1
            status = self.script.pop(0) if self.script else self.status
            return status, self.hang

    def _keep(self, headers, body: bytes, status: int) -> None:
        webhook_id = headers.get("webhook-id", "")
        timestamp = int(headers.get("webhook-timestamp", "0"))
        signatures = tuple(headers.get("webhook-signature", "").split(" "))
        with self._lock:
            signed_by = tuple(secret for secret in self.secrets
                              if f"v1,{sign(secret, webhook_id, timestamp, body)}" in signatures)
            self.hits.append(Hit(webhook_id, timestamp, signatures, body, signed_by, status, time.time()))
            self._lock.notify_all()

    def wait_for(self, condition, timeout: float = 10.0) -> list[Hit]:
        """Waits until condition(hits) holds; returns the hits (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition(list(self.hits)):
                left = deadline - time.monotonic()
                assert left > 0, f"webhook receiver: condition not met in {timeout}s; hits: {self.hits}"
                self._lock.wait(left)
            return list(self.hits)
