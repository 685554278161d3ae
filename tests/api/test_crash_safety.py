"""Crash safety (issue 6): kill -9 referrald at random moments under a write
load of every kind — signup and verify, apply, credit, revoke, events —
restart it, and every write that was acknowledged with a 2xx is in the
database, every acknowledged signup's mail was delivered or still waits in
the outbox, and every ledger invariant holds. SQLite runs synchronous=FULL
(and group commit): a 2xx means the commit reached the disk.

Share-link clicks are the one write answered before it commits (docs/API.md,
"Share links"): a kill may lose the clicks of the last CLICK_FLUSH_INTERVAL,
so every click answered more than two intervals before a kill must be there,
and the click counters must equal the click rows (one transaction).

REFERRALD_CRASH_KILLS sets the number of kills: 3 in `make test`, 20 or
more in `make stress`.
"""

from __future__ import annotations

import base64
import http.cookiejar
import os
import random
import signal
import threading
import time
from collections import Counter

import requests

import flows
import invariants
import ledger_flows as lf
from support.smtp_sink import SmtpSink

KILLS = int(os.environ.get("REFERRALD_CRASH_KILLS", "3"))
SEEDED_REFEREES = 6
EVENT_WORKERS = 2
NEWCOMER_WORKERS = 2
CLICK_FLUSH_S = 0.25
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


class Acked:
    """What the server acknowledged (2xx) across every round, and what else it said."""

    def __init__(self) -> None:
        self.signups: set[str] = set()     # emails
        self.verified: set[str] = set()    # emails
        self.referrals: set[str] = set()   # referral ids
        self.credited: set[str] = set()    # reward ids
        self.revoked: set[str] = set()     # reward ids
        self.events: set[str] = set()      # external ids
        self.clicks: list[tuple[int, float, str]] = []  # (round, monotonic time of the 302, click id)
        self.kills: list[float] = []       # monotonic time of each kill
        self.interrupted = 0               # requests cut off by a kill: not acknowledged
        self.refusals: Counter = Counter()  # (route, status) of every non-2xx answer
        self._lock = threading.Lock()

    def cut_off(self) -> None:
        with self._lock:
            self.interrupted += 1

    def refused(self, route: str, answer: requests.Response) -> None:
        with self._lock:
            self.refusals[(route, answer.status_code)] += 1

    def sizes(self) -> str:
        kinds = ("signups", "verified", "referrals", "credited", "revoked", "events", "clicks")
        return ", ".join(f"{len(getattr(self, kind))} {kind}" for kind in kinds)


def start(make_server, sink_port: int, database_url: str):
    return make_server(env=lf.env(SQLITE_SYNCHRONOUS="FULL", EMAIL_BACKEND="smtp", EMAIL_HOST="127.0.0.1",
                                  EMAIL_PORT=sink_port, EMAIL_RETRY_BASE="250ms",
                                  CLICK_FLUSH_INTERVAL=f"{int(CLICK_FLUSH_S * 1000)}ms"),
                       database_url=database_url)


def seed(server) -> tuple[lf.User, lf.User, list[lf.User], list[str]]:
    """On a console-mail server (the flows read codes from its log): an admin,
    both reward configs, a referrer and referees it referred."""
    admin = lf.admin(server)
    lf.config(server, admin)
    lf.config(server, admin, reward_type="FIRST_ORDER", value=500, unit="CASH", auto_credit=True)
    referrer = lf.user(server)
    referees = [lf.user(server) for _ in range(SEEDED_REFEREES)]
    referrals = [lf.refer(server, referrer, referee)[1] for referee in referees]
    return admin, referrer, referees, referrals


def until_killed(work):
    """Runs `work(acked, stop)` in a loop until `stop`; a dead server ends it."""
    def loop(acked: Acked, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                work(acked, stop)
        except requests.RequestException:
            acked.cut_off()
    return loop


def code_by_mail(sink: SmtpSink, email: str, stop: threading.Event) -> str | None:
    """The code mailed to `email`; None when the round ends first (a kill
    before the send: the message stays in the outbox)."""
    while not stop.is_set():
        try:
            sink.wait_for(email, timeout=0.1)
            return sink.latest_code(email)
        except TimeoutError:
            continue
    return None


def newcomers(server, sink: SmtpSink, code: str):
    """Sign up, read the code from the mail, verify, log in and apply `code`."""
    def one(acked: Acked, stop: threading.Event) -> None:
        email = flows.new_email("crash")
        answer = flows.signup(server, email)
        if answer.status_code != 201:
            return acked.refused("signup", answer)
        acked.signups.add(email)
        code_sent = code_by_mail(sink, email, stop)
        if code_sent is None:
            return
        answer = flows.verify(server, email, code_sent)
        if answer.status_code != 200:
            return acked.refused("verify", answer)
        acked.verified.add(email)
        answer = flows.login(server, email)
        if answer.status_code != 200:
            return acked.refused("login", answer)
        answer = flows.apply_code(server, flows.bearer(answer.json()["token"]), code)
        if answer.status_code != 200:
            return acked.refused("apply", answer)
        acked.referrals.add(answer.json()["referral_id"])
    return until_killed(one)


def ledger_moves(server, admin: lf.User, rng: random.Random):
    """Credits or revokes rewards that can still move (read from the database)."""
    def one(acked: Acked, _stop: threading.Event) -> None:
        movable = server.query("SELECT id, status FROM rewards WHERE status <> 'REVOKED'")
        if not movable:
            time.sleep(0.02)
            return
        reward_id, status = rng.choice(movable)
        if status == "PENDING" and rng.random() < 0.7:
            answer, done = lf.credit(server, admin, reward_id), acked.credited
        else:
            answer, done = lf.revoke(server, admin, reward_id), acked.revoked
        if answer.status_code == 200:
            done.add(reward_id)
        else:
            acked.refused("credit/revoke", answer)
    return until_killed(one)


def orders(server, admin: lf.User, referees: list[lf.User], rng: random.Random):
    """FIRST_ORDER events (auto-credited rewards) for referred users."""
    def one(acked: Acked, _stop: threading.Event) -> None:
        external_id = f"order-{rng.getrandbits(64):016x}"
        answer = lf.event(server, admin, external_id, email=rng.choice(referees).email)
        if answer.status_code in (200, 201):
            acked.events.add(external_id)
        else:
            acked.refused("event", answer)
    return until_killed(one)


def click_id_of(answer: requests.Response) -> str:
    """The click id inside the signed `referral` cookie: "a1|CODE|CLICK|EXPIRY"."""
    token = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    payload = token.split(".")[0]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split("|")[2]


def clicks(server, code: str, acked_kills_so_far: list[float]):
    """Follows the share link as a browser that never keeps the cookie, so
    every answer sets one naming its click. Each round has its own loops:
    a click belongs to the round (and the kill) of the loop that made it."""
    round_index = len(acked_kills_so_far)
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = BROWSER

    def one(acked: Acked, _stop: threading.Event) -> None:
        answer = session.get(server.url(f"/r/{code}"), allow_redirects=False, timeout=30)
        if answer.status_code != 302:
            return acked.refused("click", answer)
        acked.clicks.append((round_index, time.monotonic(), click_id_of(answer)))
    return until_killed(one)


def run_round(loops, acked: Acked, server, rng: random.Random) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(acked, stop)) for loop in loops]
    for thread in threads:
        thread.start()
    # At least 0.8 s: the click check needs clicks answered more than two flush
    # intervals (0.5 s) before the kill, and a sanitizer build on PostgreSQL
    # took most of a shorter round to answer its first one.
    time.sleep(rng.uniform(0.8, 1.4))
    acked.kills.append(time.monotonic())
    server.kill()  # SIGKILL: no shutdown, no flush
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a load thread hung after the kill"


def ids(server, sql: str) -> set[str]:
    return {row[0] for row in server.query(sql)}


def undelivered_mail(server, sink: SmtpSink, acked: Acked) -> set[str]:
    """Acknowledged signups whose code was neither delivered nor still queued.
    A message claimed when the server died waits for its lease to run out
    (a minute): its row in 'sending' is kept, not lost."""
    deadline = time.monotonic() + 15
    while server.query("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")[0][0] and time.monotonic() < deadline:
        time.sleep(0.1)
    delivered = {recipient.lower() for message in sink.messages for recipient in message.rcpt_to}
    waiting = ids(server, "SELECT recipient FROM outbox WHERE status IN ('queued', 'sending')")
    return acked.signups - delivered - waiting


def settled_clicks(acked: Acked) -> set[str]:
    """Clicks answered more than two flush intervals before their round's kill."""
    return {click_id for round_index, at, click_id in acked.clicks
            if at < acked.kills[round_index] - 2 * CLICK_FLUSH_S}


def lost_writes(server, sink: SmtpSink, acked: Acked) -> dict[str, set[str]]:
    verified = ids(server, "SELECT email FROM users WHERE is_verified = 1")
    return {
        "signups": acked.signups - ids(server, "SELECT email FROM users"),
        "verifications": acked.verified - verified,
        "referrals": acked.referrals - ids(server, "SELECT id FROM referrals"),
        "credits": acked.credited - ids(server, "SELECT reward_id FROM reward_events WHERE to_status = 'CREDITED'"),
        "revokes": acked.revoked - ids(server, "SELECT id FROM rewards WHERE status = 'REVOKED'"),
        "events": acked.events - ids(server, "SELECT external_id FROM events"),
        "mails": undelivered_mail(server, sink, acked),
        "clicks": settled_clicks(acked) - ids(server, "SELECT id FROM link_clicks"),
    }


def check_click_counters(server) -> None:
    """The flusher writes click rows and counters in one transaction: a kill
    between them would leave them apart."""
    rows = server.query("SELECT COUNT(*) FROM link_clicks")[0][0]
    counted = server.query("SELECT COALESCE(SUM(clicks), 0) FROM link_totals")[0][0]
    bucketed = server.query("SELECT COALESCE(SUM(clicks), 0) FROM link_counters")[0][0]
    assert int(rows) == int(counted) == int(bucketed), (rows, counted, bucketed)


def test_acknowledged_writes_survive_kill_9(make_server):
    rng = random.Random(7)
    acked = Acked()
    seeding = make_server(env=lf.env(SQLITE_SYNCHRONOUS="FULL"))
    admin, referrer, referees, referrals = seed(seeding)
    acked.referrals.update(referrals)
    code = lf.code_of(seeding, referrer)
    assert seeding.stop() == 0
    with SmtpSink() as sink:
        server = start(make_server, sink.port, seeding.database_url)
        for _ in range(KILLS):
            loops = ([newcomers(server, sink, code)] * NEWCOMER_WORKERS + [ledger_moves(server, admin, rng)]
                     + [orders(server, admin, referees, rng)] * EVENT_WORKERS + [clicks(server, code, acked.kills)])
            run_round(loops, acked, server, rng)
            server = start(make_server, sink.port, server.database_url)

        lost = lost_writes(server, sink, acked)
        print(f"acknowledged writes lost: {sum(map(len, lost.values()))} after {KILLS} kills "
              f"(of {acked.sizes()}; {acked.interrupted} requests cut off)")
        assert not any(lost.values()), {kind: sorted(items)[:5] for kind, items in lost.items() if items}
        server_errors = {key: count for key, count in acked.refusals.items() if key[1] >= 500}
        assert not server_errors, f"5xx answers under the load: {server_errors}"
        assert acked.interrupted, "no request was cut off by a kill: the test proved nothing"
        assert acked.signups and acked.verified and acked.credited and acked.revoked and acked.events, acked.sizes()
        assert settled_clicks(acked), f"no click settled before a kill: {len(acked.clicks)} clicks"
        invariants.check_all(server)  # the ledger chain among them
        check_click_counters(server)
        done = flows.cli(server, "ledger", "verify")  # and the projections, as an operator would
        assert done.returncode == 0 and done.stdout.startswith("ok "), done
        # Tokens issued before the kills still work: the secret is in the database.
        assert lf.post(server, "/api/auth/verify-session", referrer.headers).status_code == 200


def test_a_code_mail_held_by_a_killed_server_arrives_within_seconds_of_the_restart(make_server):
    """The sender leases one message for one attempt (EMAIL_TIMEOUT + 2 s), so
    after a kill -9 mid-send the code mail (valid 5 minutes) goes out seconds
    after the restart, not once a whole batch's lease (150 s) has passed."""
    with SmtpSink() as sink:
        sink.stall()  # the first attempt hangs inside the SMTP conversation
        server = start(make_server, sink.port, None)
        email = flows.new_email("crash-mail")
        assert flows.signup(server, email).status_code == 201
        deadline = time.monotonic() + 10
        while server.query("SELECT status FROM outbox WHERE recipient = %s", (email,)) != [("sending",)]:
            assert time.monotonic() < deadline, "the code mail was never claimed"
            time.sleep(0.05)
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        sink.resume()
        restarted = start(make_server, sink.port, server.database_url)
        back_at = time.monotonic()
        sink.wait_for(email, timeout=30)
        late = time.monotonic() - back_at
        print(f"code mail arrived {late:.1f} s after the restart")
        assert late < 20, f"the code mail arrived {late:.1f} s after the restart"
        assert flows.verify(restarted, email, sink.latest_code(email)).status_code == 200
