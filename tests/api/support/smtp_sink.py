"""A small SMTP server that keeps what it receives, for the API tests.

Python 3.11 standard library only (smtpd is gone, aiosmtpd is not installed).
It speaks enough SMTP for libcurl and smtplib: EHLO/HELO, MAIL, RCPT, DATA
(with dot-unstuffing), RSET, NOOP, QUIT, and AUTH PLAIN/LOGIN accepting any
credentials. No TLS: point referrald at it with EMAIL_USE_TLS/SSL off.

Example::

    from support.smtp_sink import SmtpSink

    sink = SmtpSink()
    port = sink.start()                      # a free loopback port
    server = make_server(env={"EMAIL_BACKEND": "smtp",
                              "EMAIL_HOST": "127.0.0.1",
                              "EMAIL_PORT": str(port)})
    ...                                      # POST /api/auth/signup for a@example.com
    mail = sink.wait_for("a@example.com", timeout=10)
    assert mail.message["Subject"]
    code = sink.latest_code("a@example.com")  # "482913"

    sink.stop()                              # the mail server is down ...
    ...                                      # ... signup still answers 201
    sink.start(port)                         # ... back on the same port
    sink.wait_for("b@example.com", timeout=30)
    sink.stop()

Messages survive stop()/start(); clear() forgets them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import email
import email.message
import email.policy
import re
import socket
import socketserver
import threading
import time

_HOSTNAME = "smtp-sink.test"
_MAX_LINE = 1 << 20
_ADDRESS = re.compile(r"^\s*(?:FROM|TO):\s*<([^>]*)>", re.IGNORECASE)
_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


@dataclasses.dataclass(frozen=True)
class Received:
    """One accepted message: the SMTP envelope and the parsed email."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes  # as received (CRLF line ends), after dot-unstuffing
    message: email.message.EmailMessage
    auth_user: str | None

    @property
    def text(self) -> str:
        """The decoded text/plain part ('' when there is none)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self._received: list[Received] = []
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._answering = threading.Event()  # cleared: sessions wait before the greeting
        self._answering.set()

    # -- lifecycle -----------------------------------------------------------

    def start(self, port: int = 0) -> int:
        """Listens on `port` (0 = any free one) and returns the port."""
        if self._server is not None:
            raise RuntimeError("the SMTP sink is already running")
        server = _Server((self.host, port), _Session)
        server.sink = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"smtp-sink:{self.port}", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stops listening and drops open connections, like a crashed server."""
        server, self._server = self._server, None
        if server is None:
            return
        self._answering.set()  # stalled sessions run into their dropped connections
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def stall(self) -> None:
        """New sessions are accepted but not greeted until resume(), like a
        mail server that hangs: the client waits until its own timeout."""
        self._answering.clear()

    def resume(self) -> None:
        self._answering.set()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what was received ---------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def messages_for(self, to: str) -> list[Received]:
        wanted = to.strip().lower()
        return [m for m in self.messages if wanted in (r.lower() for r in m.rcpt_to)]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for(self, to: str, timeout: float = 10.0, count: int = 1) -> Received:
        """Waits until `count` messages for `to` have arrived; returns the newest.

        Raises TimeoutError naming what did arrive when they do not.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.messages_for(to)
                if len(found) >= count:
                    return found[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [m.rcpt_to for m in self._received]
                    raise TimeoutError(
                        f"{count} message(s) for {to} not received within {timeout} s; got {seen}")
                self._changed.wait(remaining)

    def latest_code(self, to: str) -> str | None:
        """The 6-digit code in the text part of the newest message for `to`."""
        found = self.messages_for(to)
        if not found:
            return None
        match = _CODE.search(found[-1].text)
        return match.group(0) if match else None

    # -- called by sessions --------------------------------------------------

    def _store(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()


class _Server(socketserver.ThreadingTCPServer):
    # Rebinding the same port right after stop() must work ("SMTP back up").
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, *args, **kwargs) -> None:
        self.sink: SmtpSink | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Session(socketserver.StreamRequestHandler):
    timeout = 30  # seconds of client silence before the session is dropped

    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)
        self.auth_user: str | None = None
        self._reset()

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def handle(self) -> None:
        try:
            self.server.sink._answering.wait()
            self._reply(220, f"{_HOSTNAME} ESMTP smtp-sink")
            while True:
                line = self._read_line()
                if line is None:
                    return
                verb, _, argument = line.partition(" ")
                command = getattr(self, "smtp_" + verb.upper(), None)
                if command is None:
                    self._reply(500, "5.5.1 command not recognized")
                elif command(argument.strip()) is False:
                    return
        except (OSError, EOFError):
            return  # the client went away or fell silent

    # -- commands ------------------------------------------------------------

    def smtp_EHLO(self, argument: str) -> None:
        self._reset()
        self.wfile.write(
            f"250-{_HOSTNAME} greets {argument or 'you'}\r\n"
            "250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 HELP\r\n".encode())

    def smtp_HELO(self, argument: str) -> None:
        self._reset()
        self._reply(250, f"{_HOSTNAME} greets {argument or 'you'}")

    def smtp_AUTH(self, argument: str) -> None:
        mechanism, _, initial = argument.partition(" ")
        try:
            if mechanism.upper() == "PLAIN":
                fields = _b64(initial or self._challenge("")).split(b"\0")
                user = fields[1] if len(fields) == 3 else b""
            elif mechanism.upper() == "LOGIN":
                user = _b64(initial or self._challenge("VXNlcm5hbWU6"))  # "Username:"
                self._challenge("UGFzc3dvcmQ6")  # "Password:", any is fine
            else:
                self._reply(504, "5.5.4 unrecognized authentication type")
                return
        except _Cancelled:
            self._reply(501, "5.7.0 authentication cancelled")
            return
        except binascii.Error:
            self._reply(501, "5.5.2 cannot decode the response")
            return
        self.auth_user = user.decode("utf-8", "replace")
        self._reply(235, "2.7.0 authentication successful")

    def smtp_MAIL(self, argument: str) -> None:
        match = _ADDRESS.match(argument)
        if match is None or not argument.upper().startswith("FROM:"):
            self._reply(501, "5.5.4 syntax: MAIL FROM:<address>")
            return
        self._reset()
        self.mail_from = match.group(1)
        self._reply(250, "2.1.0 OK")

    def smtp_RCPT(self, argument: str) -> None:
        match = _ADDRESS.match(argument)
        if self.mail_from is None:
            self._reply(503, "5.5.1 MAIL first")
        elif match is None or not argument.upper().startswith("TO:"):
            self._reply(501, "5.5.4 syntax: RCPT TO:<address>")
        else:
            self.rcpt_to.append(match.group(1))
            self._reply(250, "2.1.5 OK")

    def smtp_DATA(self, argument: str) -> bool | None:
        if not self.rcpt_to:
            self._reply(503, "5.5.1 RCPT first")
            return None
        self._reply(354, "end data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                return False  # the client went away mid-message: nothing is kept
            if line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b".") else line)
        data = b"".join(lines)
        # Parsed with '\n' line ends, so text parts read as ordinary Python strings.
        message = email.message_from_bytes(
            data.replace(b"\r\n", b"\n"), policy=email.policy.default)
        self.server.sink._store(Received(
            self.mail_from, tuple(self.rcpt_to), data, message, self.auth_user))
        self._reset()
        self._reply(250, "2.0.0 OK queued")
        return None

    def smtp_RSET(self, argument: str) -> None:
        self._reset()
        self._reply(250, "2.0.0 OK")

    def smtp_NOOP(self, argument: str) -> None:
        self._reply(250, "2.0.0 OK")

    def smtp_QUIT(self, argument: str) -> bool:
        self._reply(221, "2.0.0 bye")
        return False

    # -- helpers -------------------------------------------------------------

    def _reset(self) -> None:
        self.mail_from: str | None = None
        self.rcpt_to: list[str] = []

    def _reply(self, code: int, text: str) -> None:
        self.wfile.write(f"{code} {text}\r\n".encode())

    def _read_line(self) -> str | None:
        line = self.rfile.readline(_MAX_LINE)
        if not line:
            return None
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def _challenge(self, prompt: str) -> str:
        """Sends a 334 prompt and returns the client's answer."""
        self._reply(334, prompt)
        answer = self._read_line()
        if answer is None:
            raise EOFError
        if answer == "*":
            raise _Cancelled
        return answer


class _Cancelled(Exception):
    """The client answered an AUTH prompt with "*"."""


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
