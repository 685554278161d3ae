"""Crash safety, short form (issue 6): kill -9 under a write load, restart,
and every write that was acknowledged with a 2xx is in the database and every
ledger invariant holds. SQLite runs synchronous=FULL (and group commit): a 2xx
means the commit reached the disk.
"""

from __future__ import annotations

import random
import threading
import time

import requests

import flows
import invariants
import ledger_flows as lf

KILLS = 3
REFEREES_PER_ROUND = 8


def start(make_server, database_url: str | None = None):
    return make_server(env=lf.env(SQLITE_SYNCHRONOUS="FULL"), database_url=database_url)


def write_load(server, referees: list[lf.User], code: str, admin: lf.User, acked: dict, stop: threading.Event):
    """Each referee applies the code, then reports orders until `stop`; every
    2xx is recorded. Runs until the server is killed under it."""
    def worker(referee: lf.User) -> None:
        try:
            answer = lf.apply(server, referee, code)
            if answer.status_code == 200:
                acked["referrals"].add(answer.json()["referral_id"])
            for order in range(1_000_000):
                if stop.is_set():
                    return
                external_id = f"order-{referee.id}-{order}"
                if lf.event(server, admin, external_id, email=referee.email).status_code in (200, 201):
                    acked["events"].add(external_id)
        except requests.RequestException:
            acked["interrupted"] += 1  # the server died mid-request: not acknowledged

    threads = [threading.Thread(target=worker, args=(referee,)) for referee in referees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_acknowledged_writes_survive_kill_9(make_server):
    server = start(make_server)
    admin = lf.admin(server)
    lf.config(server, admin)
    lf.config(server, admin, reward_type="FIRST_ORDER", value=500, unit="CASH", auto_credit=True)
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    acked = {"referrals": set(), "events": set(), "interrupted": 0}
    rng = random.Random(7)
    for _ in range(KILLS):
        referees = [lf.user(server) for _ in range(REFEREES_PER_ROUND)]
        stop = threading.Event()
        load = threading.Thread(target=write_load, args=(server, referees, code, admin, acked, stop))
        load.start()
        time.sleep(rng.uniform(0.3, 0.8))
        server.kill()  # SIGKILL: no shutdown, no flush
        stop.set()
        load.join()
        server = start(make_server, database_url=server.database_url)

    stored = {row[0] for row in server.query("SELECT id FROM referrals")}
    lost_referrals = acked["referrals"] - stored
    stored_events = {row[0] for row in server.query("SELECT external_id FROM events")}
    lost_events = acked["events"] - stored_events
    print(f"acknowledged writes lost: {len(lost_referrals) + len(lost_events)} "
          f"(of {len(acked['referrals'])} applies and {len(acked['events'])} events)")
    assert not lost_referrals and not lost_events
    assert acked["referrals"] and acked["interrupted"], "no write was cut off by a kill: the test proved nothing"
    invariants.check_all(server)
    # The restarted server serves the same tokens (the secret is in the database).
    assert flows.login(server, referrer.email).status_code == 200
