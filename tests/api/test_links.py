"""Share links, clicks, attribution and the funnel (docs/API.md "Share links").

Clicks reach the database through the flusher, so tests wait for them
(`wait_clicks`). Counts are checked against independent SQL over the raw
click rows and the attribution rows. Every counted click needs a browser
User-Agent: requests' own (python-requests) is on the crawler list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import secrets
import signal
import time
import uuid
from collections import defaultdict

import pytest
import requests

import flows
import harness
import ledger_flows as lf
from checks import assert_error
from test_analytics import execute_many, insert_referrals, ms, zone_of

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
QUARTER_MS = 15 * 60 * 1000
FAST = {"CLICK_FLUSH_INTERVAL": "100ms", "TRUSTED_PROXIES": "127.0.0.1"}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, **FAST)


@pytest.fixture(scope="module", autouse=True)
def reward_config(server):
    """Referrals need an active reward config."""
    boss = lf.admin(server)
    lf.config(server, boss)
    return boss


def live_server(make_server, **settings) -> harness.Server:
    """A server of its own, with the settings, FAST and a reward config."""
    live = make_server(env=lf.env(**{**FAST, **settings}))
    lf.config(live, lf.admin(live))
    return live


def referrer_with_code(server) -> tuple[lf.User, str]:
    who = lf.user(server)
    return who, lf.code_of(server, who)


def click(server, code: str, ip: str = "203.0.113.7", agent: str = BROWSER, method: str = "GET",
          **headers) -> requests.Response:
    return requests.request(method, server.url(f"/r/{code}"), allow_redirects=False, timeout=30,
                            headers={"User-Agent": agent, "X-Forwarded-For": ip, **headers})


def cookie_of(answer: requests.Response) -> str:
    header = answer.headers["Set-Cookie"]
    assert header.startswith("referral="), header
    return header.split(";")[0][len("referral="):]


def code_id(server, code: str) -> str:
    return server.query("SELECT id FROM referral_codes WHERE code = %s", (code,))[0][0]


def raw_clicks(server, code: str) -> tuple[int, int]:
    """(rows, unique rows) in link_clicks, counted independently of the counters."""
    rows = server.query("SELECT COUNT(*), COALESCE(SUM(is_unique), 0) FROM link_clicks WHERE code_id = %s",
                        (code_id(server, code),))
    return int(rows[0][0]), int(rows[0][1])


def wait_clicks(server, code: str, expected: int, timeout: float = 10.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while True:
        counted = raw_clicks(server, code)
        if counted[0] >= expected or time.monotonic() > deadline:
            return counted
        time.sleep(0.05)


def funnel(server, who: lf.User, path: str = "/api/referral/analytics/funnel", **params) -> dict:
    answer = lf.get(server, path, who.headers, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def signup_with_cookie(server, cookie: str, email: str | None = None, **body) -> str:
    email = email or flows.new_email("visitor")
    answer = requests.post(server.url("/api/auth/signup"), headers={"Cookie": f"referral={cookie}"},
                           json={"name": "Visitor", "email": email, "password": flows.PASSWORD, **body}, timeout=30)
    assert answer.status_code == 201, answer.text
    return email


def verify(server, email: str) -> requests.Response:
    answer = flows.verify(server, email, flows.latest_code(server, email))
    assert answer.status_code == 200, answer.text
    return answer


def attribution_of(server, email: str) -> tuple | None:
    rows = server.query("SELECT c.code, a.click_id, a.source FROM link_attributions a "
                        "JOIN users u ON u.id = a.user_id JOIN referral_codes c ON c.id = a.code_id "
                        "WHERE u.email = %s", (email,))
    return tuple(rows[0]) if rows else None


def referrer_of(server, email: str) -> str | None:
    rows = server.query("SELECT r.referrer_id FROM referrals r JOIN users u ON u.id = r.referee_id "
                        "WHERE u.email = %s", (email,))
    return rows[0][0] if rows else None


# --------------------------------------------------------------------------
# the redirect


def test_redirect_sets_location_cookie_and_headers(server):
    _, code = referrer_with_code(server)
    answer = click(server, code.lower())  # codes match case-insensitively
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"] == f"/?ref={code}"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    attributes = [part.strip() for part in answer.headers["Set-Cookie"].split(";")]
    assert attributes[0].startswith("referral=") and len(attributes[0]) > 40
    # Secure: the test servers' PUBLIC_URL is https:// (harness.PUBLIC_URL).
    assert set(attributes[1:]) == {"Max-Age=2592000", "Path=/", "HttpOnly", "SameSite=Lax", "Secure"}
    assert answer.content == b""


def test_head_answers_like_get_without_a_body(server):
    _, code = referrer_with_code(server)
    answer = click(server, code, method="HEAD")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/?ref={code}"
    assert "referral=" in answer.headers["Set-Cookie"] and answer.content == b""
    assert wait_clicks(server, code, 1) == (1, 1)


@pytest.mark.parametrize("path", ["REF-NOSUCH99", "%3Cscript%3E", "a" * 80, "REF-%C3%A9"])
def test_unknown_or_malformed_code_redirects_without_ref_or_cookie(server, path):
    _, code = referrer_with_code(server)
    answer = click(server, path)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"
    click(server, code)  # flushed after the one above: nothing of that one may be there
    wait_clicks(server, code, 1)
    known = server.query("SELECT COUNT(*) FROM link_clicks WHERE code_id NOT IN (SELECT id FROM referral_codes)")
    assert known[0][0] == 0


def test_landing_url_keeps_its_query_and_fragment_and_window_sets_max_age(make_server):
    live = make_server(env=lf.env(REFERRAL_LANDING_URL="https://shop.example/join?utm=x#top",
                                  ATTRIBUTION_WINDOW="2h", PUBLIC_URL="https://go.example", **FAST))
    who, code = referrer_with_code(live)
    answer = click(live, code)
    assert answer.headers["Location"] == f"https://shop.example/join?utm=x&ref={code}#top"
    assert "Max-Age=7200" in answer.headers["Set-Cookie"] and "Secure" in answer.headers["Set-Cookie"]
    assert click(live, "REF-UNKNOWN2").headers["Location"] == "https://shop.example/join?utm=x#top"
    link = lf.get(live, "/api/referral/link", who.headers).json()
    assert link == {"referral_code": code, "url": f"https://go.example/r/{code}"}


BOTS = ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "facebookexternalhit/1.1",
        "Twitterbot/1.0", "WhatsApp/2.23.20.0", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)", "LinkedInBot/1.0 (compatible; Mozilla/5.0)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "curl/8.4.0",
        "python-requests/2.31.0"]


def test_crawlers_and_link_previews_are_redirected_but_not_counted(server):
    _, code = referrer_with_code(server)
    for agent in BOTS:
        answer = click(server, code, agent=agent)
        assert answer.status_code == 302 and answer.headers["Location"] == f"/?ref={code}", agent
    click(server, code, agent="SomeApp/1.0")  # not a browser, not a crawler: counted as "other"
    click(server, code)
    assert wait_clicks(server, code, 2) == (2, 1)
    rows = server.query("SELECT agent_family FROM link_clicks WHERE code_id = %s ORDER BY id", (code_id(server, code),))
    assert sorted(row[0] for row in rows) == ["browser", "other"]


def test_a_click_keeps_no_ip_only_a_hash_and_the_referrer_host(server):
    _, code = referrer_with_code(server)
    click(server, code, ip="198.51.100.23", Referer="https://News.Example.com:8443/story?id=1")
    wait_clicks(server, code, 1)
    rows = server.query("SELECT * FROM link_clicks WHERE code_id = %s", (code_id(server, code),))
    assert len(rows) == 1 and not any("198.51.100.23" in str(value) for value in rows[0])
    host = server.query("SELECT referrer_host FROM link_clicks WHERE code_id = %s", (code_id(server, code),))
    assert host[0][0] == "news.example.com"


def test_unique_visitors_are_first_clicks_of_a_visitor_on_a_code_per_day(server):
    (owner, code), (_, other) = referrer_with_code(server), referrer_with_code(server)
    for ip in ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.3"]:
        click(server, code, ip=ip)
    click(server, other, ip="192.0.2.1")  # another code: its own first visit
    assert wait_clicks(server, code, 5) == (5, 3)
    assert wait_clicks(server, other, 1) == (1, 1)
    counters = server.query("SELECT CAST(SUM(clicks) AS BIGINT), CAST(SUM(unique_visitors) AS BIGINT) "
                            "FROM link_counters WHERE code_id = %s", (code_id(server, code),))
    assert tuple(counters[0]) == (5, 3)
    shown = funnel(server, owner)
    assert (shown["clicks"], shown["unique_visitors"]) == (5, 3)
    assert lf.get(server, "/api/referral/analytics/summary", owner.headers).json()["clicks"] == 5


def test_an_ipv6_visitor_is_its_slash_64(server):
    # Addresses of one /64 are one visitor: rotating them must not inflate
    # a code's unique visitors.
    _, code = referrer_with_code(server)
    for ip in ["2001:db8:5:1::1", "2001:db8:5:1:ffff::2", "2001:db8:5:1:a:b:c:d", "2001:db8:5:2::1"]:
        click(server, code, ip=ip)
    assert wait_clicks(server, code, 4) == (4, 2)


def test_metrics_count_buffered_flushed_and_dropped_clicks(server):
    _, code = referrer_with_code(server)
    click(server, code)
    wait_clicks(server, code, 1)
    text = requests.get(server.url("/metrics"), timeout=30).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith("click")}
    assert values["clicks_flushed_total"] >= 1
    assert values["clicks_dropped_total"] == 0
    assert "clicks_buffered" in values


# --------------------------------------------------------------------------
# attribution


def test_signup_with_the_cookie_is_attributed_and_referred_at_verification(server):
    referrer, code = referrer_with_code(server)
    cookie = cookie_of(click(server, code))
    email = signup_with_cookie(server, cookie)
    attributed = attribution_of(server, email)
    assert attributed is not None and attributed[0] == code and attributed[2] == "cookie"
    wait_clicks(server, code, 1)
    click_ids = [row[0] for row in server.query("SELECT id FROM link_clicks WHERE code_id = %s",
                                                 (code_id(server, code),))]
    assert attributed[1] in click_ids  # the click -> signup link
    assert referrer_of(server, email) is None  # not before verification
    assert verify(server, email).json()["referral"] == {"applied": True}
    assert referrer_of(server, email) == referrer.id
    shown = funnel(server, referrer)
    assert {key: shown[key] for key in ("clicks", "signups", "verified", "referrals")} == \
        {"clicks": 1, "signups": 1, "verified": 1, "referrals": 1}


def test_an_explicit_code_beats_the_cookie(server):
    (_, cookie_code), (explicit, explicit_code) = referrer_with_code(server), referrer_with_code(server)
    cookie = cookie_of(click(server, cookie_code))
    email = signup_with_cookie(server, cookie, referral_code=explicit_code.lower())
    assert attribution_of(server, email) == (explicit_code, None, "code")
    verify(server, email)
    assert referrer_of(server, email) == explicit.id


def test_an_explicit_code_equal_to_the_cookies_keeps_its_click(server):
    _, code = referrer_with_code(server)
    cookie = cookie_of(click(server, code))
    email = signup_with_cookie(server, cookie, referral_code=code)
    attributed = attribution_of(server, email)
    assert attributed[0] == code and attributed[1] is not None and attributed[2] == "code"


def test_the_first_link_clicked_keeps_the_attribution(server):
    (_, first), (_, second) = referrer_with_code(server), referrer_with_code(server)
    cookie = cookie_of(click(server, first))
    again = click(server, second, Cookie=f"referral={cookie}")
    assert again.headers["Location"] == f"/?ref={second}" and "Set-Cookie" not in again.headers
    assert wait_clicks(server, second, 1) == (1, 1)  # the click still counts


@pytest.mark.parametrize("damage", ["payload", "mac", "garbage"])
def test_a_tampered_cookie_is_ignored(server, damage):
    _, code = referrer_with_code(server)
    cookie = cookie_of(click(server, code))
    payload, mac = cookie.split(".")
    forged = {"payload": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac,
              "mac": payload + "." + mac[::-1],
              "garbage": "not-a-token"}[damage]
    email = signup_with_cookie(server, forged)
    assert attribution_of(server, email) is None
    verify(server, email)
    assert referrer_of(server, email) is None


def test_an_expired_cookie_is_ignored(make_server):
    live = make_server(env=lf.env(ATTRIBUTION_WINDOW="1s", **FAST))
    _, code = referrer_with_code(live)
    cookie = cookie_of(click(live, code))
    time.sleep(1.2)
    email = signup_with_cookie(live, cookie)
    assert attribution_of(live, email) is None


def test_a_cookie_made_by_one_instance_is_accepted_by_another(make_server):
    shared = lf.env(JWT_SECRET=secrets.token_urlsafe(32), **FAST)
    first = make_server(env=shared)
    lf.config(first, lf.admin(first))
    second = make_server(env=shared, database_url=first.database_url)
    referrer = lf.user(first)
    assert click(second, "REF-ZZZZZZZZ").headers["Location"] == "/"
    code = lf.code_of(second, referrer)  # created on the second: the first knows it at once
    cookie = cookie_of(click(first, code))
    email = signup_with_cookie(second, cookie)
    assert attribution_of(second, email)[0] == code
    verify(second, email)
    assert referrer_of(second, email) == referrer.id
    # One visitor on both instances, in separate flushes: one unique visit.
    click(second, code)
    assert wait_clicks(first, code, 2) == (2, 1)
    click(first, code)
    assert wait_clicks(first, code, 3) == (3, 1)


def test_a_cookie_signed_under_another_secret_is_ignored(make_server):
    one = make_server(env=lf.env(JWT_SECRET=secrets.token_urlsafe(32), **FAST))
    other = make_server(env=lf.env(JWT_SECRET=secrets.token_urlsafe(32), **FAST), database_url=one.database_url)
    _, code = referrer_with_code(one)
    email = signup_with_cookie(other, cookie_of(click(one, code)))
    assert attribution_of(other, email) is None


def test_an_attributed_signup_whose_referral_is_refused_still_counts(make_server):
    live = live_server(make_server, REFERRAL_MAX_USES_PER_CODE="1")
    referrer, code = referrer_with_code(live)
    emails = [signup_with_cookie(live, cookie_of(click(live, code, ip=f"192.0.2.{i}"))) for i in (1, 2)]
    outcomes = [verify(live, email).json()["referral"] for email in emails]
    assert outcomes[0] == {"applied": True} and outcomes[1]["applied"] is False
    wait_clicks(live, code, 2)
    shown = funnel(live, referrer)
    assert {key: shown[key] for key in ("clicks", "unique_visitors", "signups", "verified", "referrals")} == \
        {"clicks": 2, "unique_visitors": 2, "signups": 2, "verified": 2, "referrals": 1}


def test_share_link_creates_the_code_once(server):
    who = lf.user(server)
    first = lf.get(server, "/api/referral/link", who.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["url"] == f"{harness.PUBLIC_URL}/r/{body['referral_code']}"
    assert lf.get(server, "/api/referral/link", who.headers).json() == body
    assert lf.code_of(server, who) == body["referral_code"]
    assert_error(lf.get(server, "/api/referral/link"), 401, "missing_token")


# --------------------------------------------------------------------------
# the funnel


def insert_buckets(server, code: str, buckets: dict[int, tuple[int, int]]) -> None:
    cid = code_id(server, code)
    execute_many(server, [
        ("INSERT INTO link_counters (code_id, bucket_at, clicks, unique_visitors) VALUES (%s, %s, %s, %s)",
         [(cid, at, c, u) for at, (c, u) in buckets.items()]),
    ])


def insert_signups(server, code: str, items: list[tuple[int, bool]]) -> None:
    cid = code_id(server, code)
    users, rows = [], []
    for at, verified in items:
        uid = str(uuid.uuid4())
        email = f"signup-{uid}@example.com"
        users.append((uid, "Signup", email, email, "!no-login", 1 if verified else 0, at))
        rows.append((uid, cid, at))
    execute_many(server, [
        ("INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, is_admin, created_at) "
         "VALUES (%s, %s, %s, %s, %s, %s, 0, %s)", users),
        ("INSERT INTO link_attributions (user_id, code_id, click_id, source, created_at) "
         "VALUES (%s, %s, NULL, 'code', %s)", rows),
    ])


def expected_funnel_days(tz: str, first: str, last: str, buckets, signups, referrals) -> list[dict]:
    zone, days = zone_of(tz), defaultdict(lambda: dict.fromkeys(
        ("clicks", "unique_visitors", "signups", "referrals", "successful"), 0))

    def day_of(at: int) -> str | None:
        day = dt.datetime.fromtimestamp(at / 1000, zone).date().isoformat()
        return day if first <= day <= last else None

    for at, (clicks, unique) in buckets.items():
        if day := day_of(at):
            days[day]["clicks"] += clicks
            days[day]["unique_visitors"] += unique
    for at, _ in signups:
        if day := day_of(at):
            days[day]["signups"] += 1
    for at, status in referrals:
        if day := day_of(at):
            days[day]["referrals"] += 1
            days[day]["successful"] += status == "SUCCESS"
    return [{"date": day, **counts} for day, counts in sorted(days.items())]


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe",
                                "Asia/Kathmandu", "America/St_Johns", "America/Santiago", "+05:45", "-03:30"])
def test_funnel_days_match_python_zoneinfo(server, tz):
    referrer, code = referrer_with_code(server)
    rng = random.Random(tz)
    spans = [(ms("2026-03-01T00:00:00Z"), ms("2026-04-10T00:00:00Z")),
             (ms("2026-09-01T00:00:00Z"), ms("2026-11-08T00:00:00Z"))]

    def instant() -> int:
        return rng.randrange(*rng.choice(spans))

    buckets = {}
    for _ in range(900):  # > one fetch batch of 512
        at = instant()
        buckets[at - at % QUARTER_MS] = (rng.randrange(1, 9), rng.randrange(0, 2))
    signups = [(instant(), rng.random() < 0.5) for _ in range(60)]
    referrals = [(instant(), rng.choice(["PENDING", "SUCCESS", "REJECTED"])) for _ in range(60)]
    insert_buckets(server, code, buckets)
    insert_signups(server, code, signups)
    insert_referrals(server, referrer.id, referrals)
    for first, last in (("2026-02-20", "2026-11-15"), ("2026-03-08", "2026-03-08"), ("2026-04-05", "2026-10-04"),
                        ("2026-09-06", "2026-09-06")):
        shown = funnel(server, referrer, tz=tz, **{"from": first, "to": last})
        days = expected_funnel_days(tz, first, last, buckets, signups, referrals)
        assert shown["days"] == days, (tz, first, last)
        for key in ("clicks", "unique_visitors", "signups", "referrals", "successful"):
            assert shown[key] == sum(day[key] for day in days), key
        in_range = {at for at, _ in signups
                    if first <= dt.datetime.fromtimestamp(at / 1000, zone_of(tz)).date().isoformat() <= last}
        assert shown["verified"] == sum(1 for at, verified in signups if verified and at in in_range)


def test_funnel_refuses_what_the_timeline_refuses(server):
    who = lf.user(server)
    for params in ({"from": "2026-13-01"}, {"tz": "Mars/Olympus"}, {"from": "2026-05-02", "to": "2026-05-01"},
                   {"from": "2024-01-01", "to": "2026-01-01"}):
        assert_error(lf.get(server, "/api/referral/analytics/funnel", who.headers, **params), 400,
                        "validation_error")
    empty = funnel(server, who)
    assert empty == {"clicks": 0, "unique_visitors": 0, "signups": 0, "verified": 0, "referrals": 0,
                     "successful": 0, "days": []}


def test_admin_funnel_sums_every_code_and_ranks_top_referrers(make_server):
    live = make_server(env=lf.env(**FAST))
    boss = lf.admin(live)
    lf.config(live, boss)
    people = [referrer_with_code(live) for _ in range(3)]
    for index, (_, code) in enumerate(people):
        for n in range(index + 1):
            click(live, code, ip=f"198.51.100.{n}")
    wait_clicks(live, people[-1][1], 3)
    cookie = cookie_of(click(live, people[0][1], ip="198.51.100.99"))
    verify(live, signup_with_cookie(live, cookie))
    wait_clicks(live, people[0][1], 2)
    assert_error(lf.get(live, "/api/admin/funnel", people[0][0].headers), 403, "forbidden")
    shown = funnel(live, boss, "/api/admin/funnel")
    total = live.query("SELECT COUNT(*), CAST(SUM(is_unique) AS BIGINT) FROM link_clicks")[0]
    assert (shown["clicks"], shown["unique_visitors"]) == (int(total[0]), int(total[1])) == (7, 7)
    assert live.query("SELECT COUNT(*) FROM link_attributions")[0][0] == shown["signups"] == 1
    assert live.query("SELECT COUNT(*) FROM referrals")[0][0] == shown["referrals"] == 1
    assert shown["verified"] == 1
    expected = sorted([(people[0][0], 2, 1), (people[1][0], 2, 0), (people[2][0], 3, 0)],
                      key=lambda row: (-row[1], row[0].id))  # ties by user id
    assert shown["top_referrers"] == [{"user_id": who.id, "email": who.email, "clicks": clicks, "referrals": made}
                                      for who, clicks, made in expected]


# --------------------------------------------------------------------------
# the click stream's durability and retention


def test_sigterm_writes_the_buffered_clicks(make_server):
    live = make_server(env=lf.env(CLICK_FLUSH_INTERVAL="1h", TRUSTED_PROXIES="127.0.0.1"))
    _, code = referrer_with_code(live)
    # One batch of 450 clicks by 300 visitors: several multi-row statements,
    # repeats inside the batch.
    with requests.Session() as session:
        for n in range(450):
            visitor = n % 300
            address = f"10.0.{visitor // 200}.{visitor % 200}"
            answer = session.get(live.url(f"/r/{code}"), allow_redirects=False, timeout=30,
                                 headers={"User-Agent": BROWSER, "X-Forwarded-For": address})
            assert answer.status_code == 302
    assert raw_clicks(live, code) == (0, 0)  # still buffered
    assert live.stop(signal.SIGTERM) == 0
    assert raw_clicks(live, code) == (450, 300)
    totals = harness.query(live.database_url, "SELECT clicks, unique_visitors FROM link_totals")
    assert [tuple(row) for row in totals] == [(450, 300)]


def test_clicks_are_written_without_prepared_statements(make_server):
    # PostgreSQL writes click rows by COPY on the session's own libpq
    # connection, which DATABASE_PREPARED_STATEMENTS=false wraps.
    live = make_server(env=lf.env(DATABASE_PREPARED_STATEMENTS="false", **FAST))
    _, code = referrer_with_code(live)
    for ip in ("203.0.113.7", "203.0.113.8", "203.0.113.7"):
        click(live, code, ip=ip)
    assert wait_clicks(live, code, 3) == (3, 2)


def delete_user(server, user_id: str) -> None:
    """As an operator's SQL would, with SQLite's foreign keys on (as the server's sessions run)."""
    with contextlib.closing(server.db()) as conn:
        cursor = conn.cursor()
        if server.database_url.startswith("sqlite://"):
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("DELETE FROM users WHERE id = ?", (user_id,))
        else:
            cursor.execute("DELETE FROM users WHERE id = %s", (user_id,))


def test_deleting_a_referrer_deletes_its_clicks_and_counters(server):
    # PostgreSQL keeps this by a trigger, not a foreign key (migration 0021).
    gone, gone_code = referrer_with_code(server)
    kept, kept_code = referrer_with_code(server)
    for code in (gone_code, kept_code, gone_code):
        click(server, code)
    assert wait_clicks(server, gone_code, 2)[0] == 2 and wait_clicks(server, kept_code, 1)[0] == 1
    gone_id = code_id(server, gone_code)
    delete_user(server, gone.id)
    for table in ("link_clicks", "link_counters", "link_totals"):
        assert server.query(f"SELECT COUNT(*) FROM {table} WHERE code_id = %s", (gone_id,))[0][0] == 0, table
    assert raw_clicks(server, kept_code) == (1, 1)


def test_clicks_of_a_code_deleted_before_the_flush_are_dropped_alone(make_server):
    live = make_server(env=lf.env(CLICK_FLUSH_INTERVAL="1h", TRUSTED_PROXIES="127.0.0.1"))
    gone, gone_code = referrer_with_code(live)
    _, kept_code = referrer_with_code(live)
    gone_id = code_id(live, gone_code)
    for code in (gone_code, kept_code, gone_code):
        assert click(live, code).status_code == 302
    delete_user(live, gone.id)  # while its clicks are buffered
    assert live.stop(signal.SIGTERM) == 0  # one batch: both codes' clicks
    assert raw_clicks(live, kept_code) == (1, 1)
    assert live.query("SELECT COUNT(*) FROM link_clicks WHERE code_id = %s", (gone_id,))[0][0] == 0
    assert live.query("SELECT COUNT(*) FROM link_totals WHERE code_id = %s", (gone_id,))[0][0] == 0


def test_sweeper_purges_old_clicks_and_keeps_counters(make_server):
    live = make_server(env=lf.env(CLICK_RETENTION="1d", SWEEP_INTERVAL="200ms", **FAST))
    _, code = referrer_with_code(live)
    cid, old = code_id(live, code), int(time.time() * 1000) - 2 * 86_400_000
    execute_many(live, [
        ("INSERT INTO link_clicks (id, code_id, at, visitor_hash, agent_family, referrer_host, is_unique) "
         "VALUES (%s, %s, %s, 'h', 'browser', '', 1)", [(str(uuid.uuid4()), cid, old)]),
        ("INSERT INTO link_counters (code_id, bucket_at, clicks, unique_visitors) VALUES (%s, %s, 1, 1)",
         [(cid, old - old % QUARTER_MS)]),
        ("INSERT INTO link_visitors (code_id, day, visitor_hash) VALUES (%s, %s, 'h')",
         [(cid, old - old % 86_400_000)]),
    ])
    click(live, code)
    deadline = time.monotonic() + 10
    while live.query("SELECT COUNT(*) FROM link_clicks WHERE at = %s", (old,))[0][0] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.query("SELECT COUNT(*) FROM link_clicks WHERE at = %s", (old,))[0][0] == 0
    assert wait_clicks(live, code, 1) == (1, 1)  # today's click stays
    assert live.query("SELECT COUNT(*) FROM link_visitors WHERE day < %s", (old + 86_400_000,))[0][0] == 0
    kept = live.query("SELECT CAST(SUM(clicks) AS BIGINT) FROM link_counters WHERE code_id = %s", (cid,))
    assert kept[0][0] == 2
