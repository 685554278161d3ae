"""Raw-socket HTTP/1.1 for tests that `requests` cannot express: malformed
messages, pipelining, trickling clients, connection reuse."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)


class Connection:
    """One client connection with a read buffer that survives between
    responses, so pipelined answers can be read one after the other."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_response(self) -> RawResponse:
        """Reads exactly one response (Content-Length framed, as referrald sends)."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"connection closed before a full response head; got {self.buffer!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        _version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                raise EOFError("connection closed inside a response body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return RawResponse(int(status), reason, headers, body)

    def closed_by_peer(self, within: float = 3.0) -> bool:
        """True when the server closes (EOF or reset) within `within` seconds
        and sends nothing more."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
            self.buffer += chunk
        return False


def request(method: str, path: str, headers: dict[str, str] | list[tuple[str, str]] | None = None,
            body: bytes = b"", content_length: bool = True) -> bytes:
    """Serialises one HTTP/1.1 request; a list of (name, value) pairs may
    repeat a header name."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    pairs = headers.items() if isinstance(headers, dict) else headers or []
    for name, value in pairs:
        lines.append(f"{name}: {value}")
    if body and content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def responses_until_close(port: int, data: bytes, timeout: float = 3.0) -> tuple[list[RawResponse], bool]:
    """Sends `data` and reads every response until the server closes (True)
    or stays silent for `timeout` (False): a request smuggled inside another
    one's body shows up as a second answer."""
    answers = []
    with Connection(port, timeout) as conn:
        conn.send(data)
        while True:
            try:
                answers.append(conn.read_response())
            except (EOFError, ConnectionResetError):
                return answers, True
            except socket.timeout:
                return answers, False


def exchange(port: int, data: bytes, timeout: float = 10.0) -> tuple[RawResponse, bool]:
    """Sends `data`, reads one response, and says whether the server then
    closed the connection."""
    with Connection(port, timeout) as conn:
        conn.send(data)
        response = conn.read_response()
        return response, conn.closed_by_peer()
