"""Analytics (summary, list, timeline) and the admin top and stats.

Values are checked against independent SQL over the referrals and rewards
tables (the server reads counters), and timeline days against Python's own
zoneinfo (the server uses the tz database through libdate-tz). Many
referrals are written straight into the database, consistently (referee
user, referral, referrer_stats, code uses), so a test can have hundreds.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
import uuid
import zoneinfo
from collections import Counter, defaultdict

import pytest
import requests

import flows
import invariants
import ledger_flows as lf
from checks import assert_error

DAY_MS = 86_400_000
STATUSES = ("PENDING", "SUCCESS", "REJECTED")


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, value=100)
    return boss


# --------------------------------------------------------------------------
# writing referrals straight into the database


def ms(text: str) -> int:
    """'2026-03-08T05:00:00.000Z' -> epoch milliseconds."""
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


def execute_many(server, statements: list[tuple[str, list[tuple]]]) -> None:
    """Runs the statements in one transaction; `%s` placeholders on both engines."""
    sqlite = server.database_url.startswith("sqlite://")
    conn = server.db()
    try:
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        for sql, rows in statements:
            cursor.executemany(sql.replace("%s", "?") if sqlite else sql, rows)
        cursor.execute("COMMIT")
    finally:
        conn.close()


def code_id_of(server, user_id: str) -> str:
    return server.query("SELECT id FROM referral_codes WHERE user_id = %s", (user_id,))[0][0]


def new_referrer(server) -> lf.User:
    referrer = lf.user(server)
    assert lf.generate(server, referrer).status_code in (200, 201)
    return referrer


# What the server adds to user_counters with the users rows it writes.
COUNT_USERS = ("INSERT INTO user_counters (name, shard, value) VALUES (%s, 0, %s) ON CONFLICT (name, shard) "
               "DO UPDATE SET value = user_counters.value + excluded.value")


def insert_referrals(server, referrer_id: str, items: list[tuple[int, str]]) -> list[str]:
    """One referee user and referral per (created_at, status), with the counters
    and code uses the server would have written; returns the referral ids."""
    code_id = code_id_of(server, referrer_id)
    users, referrals, counts = [], [], Counter()
    for created_at, status in items:
        referee_id, referral_id = str(uuid.uuid4()), str(uuid.uuid4())
        email = f"referee-{referee_id}@example.com"
        name = f"Referee {referee_id[:8]}"
        users.append((referee_id, name, email, email, "!no-login", created_at - 1000, created_at - 1000))
        referrals.append((referral_id, referee_id, name, referrer_id, code_id, status, created_at, created_at))
        counts[status] += 1
    # Rows locked in the order the server's apply locks them (code, then
    # counters: referral_counters before referrer_stats), so this never
    # deadlocks with a concurrent apply.
    execute_many(server, [
        ("UPDATE referral_codes SET uses = uses + %s WHERE id = %s", [(len(items), code_id)]),
        ("INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, is_admin, created_at, "
         "verified_at) VALUES (%s, %s, %s, %s, %s, 1, 0, %s, %s)", users),
        ("INSERT INTO referrals (id, referee_id, referee_name, referrer_id, code_id, status, is_flagged, ip, "
         "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 0, '', %s, %s)", referrals),
        (COUNT_USERS, [("users", len(items)), ("verified", len(items))]),
        ("INSERT INTO referral_counters (name, shard, value) VALUES (%s, 0, %s) ON CONFLICT (name, shard) "
         "DO UPDATE SET value = referral_counters.value + excluded.value", sorted(counts.items())),
        ("INSERT INTO referrer_stats (user_id, total, successful, pending, rejected) VALUES (%s, %s, %s, %s, %s) "
         "ON CONFLICT (user_id) DO UPDATE SET total = referrer_stats.total + excluded.total, "
         "successful = referrer_stats.successful + excluded.successful, "
         "pending = referrer_stats.pending + excluded.pending, "
         "rejected = referrer_stats.rejected + excluded.rejected",
         [(referrer_id, len(items), counts["SUCCESS"], counts["PENDING"], counts["REJECTED"])]),
    ])
    return [row[0] for row in referrals]


def counted(server, referrer_id: str) -> Counter:
    """Independent COUNT(*) per status of the referrer's referrals."""
    return Counter(dict(server.query("SELECT status, COUNT(*) FROM referrals WHERE referrer_id = %s GROUP BY status",
                                     (referrer_id,))))


def get(server, path: str, who: lf.User | None = None, **params) -> requests.Response:
    return lf.get(server, path, who.headers if who else None, **params)


# --------------------------------------------------------------------------
# summary


def test_summary_of_a_user_without_code_or_referrals(server):
    nobody = lf.user(server)
    answer = get(server, "/api/referral/analytics/summary", nobody)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"my_referral_code": None, "total_referrals": 0, "successful_referrals": 0,
                             "pending_referrals": 0, "conversion_rate": "0%", "clicks": 0}


def test_summary_matches_sql_counts_through_api_and_direct_writes(server, boss):
    referrer = new_referrer(server)
    _, credited = lf.refer(server, referrer)
    _, revoked = lf.refer(server, referrer)
    lf.refer(server, referrer)
    assert lf.credit(server, boss, lf.reward_of(server, credited)["id"]).status_code == 200
    assert lf.revoke(server, boss, lf.reward_of(server, revoked)["id"]).status_code == 200
    insert_referrals(server, referrer.id, [(now_ms() - i * 60_000, STATUSES[i % 3]) for i in range(20)])
    summary = get(server, "/api/referral/analytics/summary", referrer).json()
    counts = counted(server, referrer.id)
    total = sum(counts.values())
    assert summary == {"my_referral_code": lf.code_of(server, referrer), "total_referrals": total,
                       "successful_referrals": counts["SUCCESS"], "pending_referrals": counts["PENDING"],
                       "conversion_rate": f"{counts['SUCCESS'] * 100 // total}%", "clicks": 0}
    assert (total, counts["SUCCESS"], counts["PENDING"], counts["REJECTED"]) == (23, 8, 8, 7)
    invariants.stats_match_referrals(server)


def test_conversion_rate_is_rounded_down(server):
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [(now_ms(), "SUCCESS"), (now_ms(), "SUCCESS"), (now_ms(), "PENDING")])
    assert get(server, "/api/referral/analytics/summary", referrer).json()["conversion_rate"] == "66%"


def test_summary_reads_the_counters_not_the_referrals(server):
    # The design reads referrer_stats by key (no aggregate over referrals):
    # a counter changed behind the server's back shows through.
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [(now_ms(), "PENDING")])
    server.query("UPDATE referrer_stats SET total = 40, successful = 10 WHERE user_id = %s", (referrer.id,))
    summary = get(server, "/api/referral/analytics/summary", referrer).json()
    assert (summary["total_referrals"], summary["successful_referrals"], summary["conversion_rate"]) == (40, 10, "25%")
    server.query("UPDATE referrer_stats SET total = 1, successful = 0 WHERE user_id = %s", (referrer.id,))


# --------------------------------------------------------------------------
# list


def expected_list(server, referrer_id: str) -> list[tuple]:
    return [tuple(row) for row in server.query(
        "SELECT r.id, r.referee_id, u.name, r.status FROM referrals r JOIN users u ON u.id = r.referee_id "
        "WHERE r.referrer_id = %s ORDER BY r.created_at DESC, r.id DESC", (referrer_id,))]


def flat(pages: list[list[dict]]) -> list[dict]:
    return [item for page in pages for item in page]


def test_list_is_newest_first_with_every_field(server, boss):
    referrer = new_referrer(server)
    referee, referral_id = lf.refer(server, referrer)
    base = now_ms() - 10 * DAY_MS
    insert_referrals(server, referrer.id, [(base + (i // 4) * 1000, STATUSES[i % 3]) for i in range(12)])  # ties
    items = get(server, "/api/referral/analytics/list", referrer).json()
    assert set(items[0]) == {"referral_id", "used_by_user_id", "used_by_name", "used_at", "status"}
    assert items[0]["referral_id"] == referral_id and items[0]["used_by_user_id"] == referee.id
    assert items[0]["used_by_name"] == "Test User" and items[0]["status"] == "PENDING"
    assert all(lf.TIMESTAMP.fullmatch(item["used_at"]) for item in items)
    assert [(i["referral_id"], i["used_by_user_id"], i["used_by_name"], i["status"]) for i in items] == \
        expected_list(server, referrer.id)
    assert [i["used_at"] for i in items] == sorted((i["used_at"] for i in items), reverse=True)


def test_list_pages_follow_link_next_and_cover_everything_once(server):
    referrer = new_referrer(server)
    base = now_ms() - 50 * DAY_MS
    insert_referrals(server, referrer.id, [(base + (i // 10) * 60_000, STATUSES[i % 3]) for i in range(120)])
    first = get(server, "/api/referral/analytics/list", referrer, limit=50)
    assert first.status_code == 200 and len(first.json()) == 50
    assert re.fullmatch(r'</api/referral/analytics/list\?limit=50&cursor=[A-Za-z0-9_-]+>; rel="next"',
                        first.headers["Link"]), first.headers["Link"]
    pages = lf.all_pages(server, "/api/referral/analytics/list", referrer.headers, limit=50)
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [item["referral_id"] for item in flat(pages)] == [row[0] for row in expected_list(server, referrer.id)]
    assert len(get(server, "/api/referral/analytics/list", referrer).json()) == 50  # default limit
    assert len(get(server, "/api/referral/analytics/list", referrer, limit=200).json()) == 120


def test_list_of_a_referrer_with_nothing_is_empty_without_link(server):
    nobody = lf.user(server)
    answer = get(server, "/api/referral/analytics/list", nobody)
    assert answer.status_code == 200 and answer.json() == []
    assert "Link" not in answer.headers


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"cursor": "not-ours"}])
def test_list_refuses_bad_limits_and_cursors(server, params):
    who = lf.user(server)
    assert_error(get(server, "/api/referral/analytics/list", who, **params), 400, "validation_error")


def walk_pages(server, path: str, who: lf.User, between_pages, **params) -> list[dict]:
    """Follows Link rel=next like lf.all_pages, calling `between_pages()` after each page."""
    answer, items = get(server, path, who, **params), []
    for _ in range(1000):
        assert answer.status_code == 200, answer.text
        items += answer.json()
        between_pages()
        link = answer.headers.get("Link")
        if not link:
            return items
        answer = requests.get(server.url(re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)),
                              headers=who.headers, timeout=30)
    raise AssertionError("pagination does not end")


def test_list_pagination_is_stable_while_referrals_arrive(server, boss):
    referrer = new_referrer(server)
    base = now_ms() - 20 * DAY_MS
    # 40 instants, 10 referrals each: page boundaries fall inside ties.
    before = set(insert_referrals(server, referrer.id,
                                  [(base + (i // 10) * 3_600_000, STATUSES[i % 3]) for i in range(400)]))
    rng = random.Random(7)

    def arrivals():
        # New ones, and late ones landing among (and tied with) those already listed.
        insert_referrals(server, referrer.id,
                         [(now_ms(), "PENDING"), (base + rng.randrange(40) * 3_600_000, "SUCCESS")])

    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            while not stop.is_set():
                arrivals()
                time.sleep(0.003)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            errors.append(error)

    def api_writer():
        try:
            for _ in range(3):
                lf.refer(server, referrer)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer), threading.Thread(target=api_writer)]
    for thread in threads:
        thread.start()
    try:
        # Arrivals between pages for certain, and from the threads meanwhile.
        items = walk_pages(server, "/api/referral/analytics/list", referrer, arrivals, limit=7)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    seen = [item["referral_id"] for item in items]
    assert len(seen) == len(set(seen)), "an item was listed twice"
    assert before <= set(seen), f"{len(before - set(seen))} items that existed throughout were skipped"
    keys = [(item["used_at"], item["referral_id"]) for item in items]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    everything = {row[0] for row in expected_list(server, referrer.id)}
    assert set(seen) <= everything and len(everything) > len(before) + 2 * 57
    invariants.stats_match_referrals(server)


# --------------------------------------------------------------------------
# timeline


def timeline(server, who: lf.User, **params) -> list[dict]:
    answer = get(server, "/api/referral/analytics/timeline", who, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def days_of(answer: list[dict]) -> dict[str, tuple[int, int]]:
    return {day["date"]: (day["count"], day["successful"]) for day in answer}


def zone_of(name: str) -> dt.tzinfo:
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", name)
    if not match:
        return zoneinfo.ZoneInfo(name)
    offset = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return dt.timezone(-offset if match.group(1) == "-" else offset)


def expected_days(items: list[tuple[int, str]], tz: str, first: str, last: str) -> list[dict]:
    zone, buckets = zone_of(tz), defaultdict(lambda: [0, 0])
    for at, status in items:
        day = dt.datetime.fromtimestamp(at / 1000, zone).date().isoformat()
        if first <= day <= last:
            buckets[day][0] += 1
            buckets[day][1] += status == "SUCCESS"
    return [{"date": day, "count": c, "successful": s} for day, (c, s) in sorted(buckets.items())]


def test_late_evening_utc_is_the_next_day_east_of_greenwich(server):
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [(ms("2026-03-10T23:30:00.000Z"), "SUCCESS")])
    window = {"from": "2026-03-09", "to": "2026-03-12"}
    assert days_of(timeline(server, referrer, **window)) == {"2026-03-10": (1, 1)}
    assert days_of(timeline(server, referrer, tz="UTC", **window)) == {"2026-03-10": (1, 1)}
    assert days_of(timeline(server, referrer, tz="+05:30", **window)) == {"2026-03-11": (1, 1)}
    assert days_of(timeline(server, referrer, tz="Asia/Kolkata", **window)) == {"2026-03-11": (1, 1)}
    assert days_of(timeline(server, referrer, tz="-05:00", **window)) == {"2026-03-10": (1, 1)}


def test_unescaped_plus_in_the_offset_is_read_as_plus(server):
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [(ms("2026-03-10T23:30:00.000Z"), "PENDING")])
    raw = requests.get(server.url("/api/referral/analytics/timeline?from=2026-03-09&to=2026-03-12&tz=+05:30"),
                       headers=referrer.headers, timeout=30)
    assert raw.status_code == 200, raw.text
    assert days_of(raw.json()) == {"2026-03-11": (1, 0)}


def test_new_york_days_follow_daylight_saving_changes(server):
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [
        (ms("2026-03-08T04:59:59.999Z"), "PENDING"),  # 23:59:59.999 EST, Mar 7
        (ms("2026-03-08T05:00:00.000Z"), "SUCCESS"),  # 00:00 EST, Mar 8 (a 23-hour day)
        (ms("2026-03-09T03:59:59.999Z"), "PENDING"),  # 23:59:59.999 EDT, Mar 8
        (ms("2026-03-09T04:00:00.000Z"), "SUCCESS"),  # 00:00 EDT, Mar 9
        (ms("2026-11-01T03:59:00.000Z"), "PENDING"),  # 23:59 EDT, Oct 31
        (ms("2026-11-01T04:00:00.000Z"), "PENDING"),  # 00:00 EDT, Nov 1 (a 25-hour day)
        (ms("2026-11-02T04:30:00.000Z"), "SUCCESS"),  # 23:30 EST, Nov 1
        (ms("2026-11-02T05:00:00.000Z"), "PENDING"),  # 00:00 EST, Nov 2
    ])
    spring = {"from": "2026-03-07", "to": "2026-03-09"}
    assert timeline(server, referrer, tz="America/New_York", **spring) == [
        {"date": "2026-03-07", "count": 1, "successful": 0},
        {"date": "2026-03-08", "count": 2, "successful": 1},
        {"date": "2026-03-09", "count": 1, "successful": 1}]
    # A fixed offset is not a zone: EST all year puts 00:00 EDT on Mar 8.
    assert days_of(timeline(server, referrer, tz="-05:00", **spring)) == {"2026-03-07": (1, 0),
                                                                         "2026-03-08": (3, 2)}
    autumn = {"from": "2026-10-31", "to": "2026-11-02"}
    assert days_of(timeline(server, referrer, tz="America/New_York", **autumn)) == {
        "2026-10-31": (1, 0), "2026-11-01": (2, 1), "2026-11-02": (1, 0)}


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "America/New_York", "Europe/London", "Australia/Lord_Howe",
                                "Asia/Kathmandu", "America/St_Johns", "America/Santiago", "Asia/Beirut",
                                "+05:30", "-03:30", "+00:00"])
def test_timeline_matches_python_zoneinfo(server, tz):
    referrer = new_referrer(server)
    rng = random.Random(tz)
    # Dense around the 2026 changes of these zones (March/April, September to
    # November), including days whose midnight is skipped (Santiago, Beirut).
    spans = [(ms("2026-03-01T00:00:00Z"), ms("2026-04-10T00:00:00Z")),
             (ms("2026-09-01T00:00:00Z"), ms("2026-11-08T00:00:00Z"))]
    items = [(rng.randrange(*rng.choice(spans)), rng.choice(STATUSES)) for _ in range(1100)]  # > 2 fetch batches
    insert_referrals(server, referrer.id, items)
    for first, last in (("2026-02-20", "2026-11-15"), ("2026-03-08", "2026-03-08"), ("2026-04-05", "2026-10-04"),
                        ("2026-09-06", "2026-09-06"), ("2026-03-29", "2026-03-29")):
        assert timeline(server, referrer, tz=tz, **{"from": first, "to": last}) == \
            expected_days(items, tz, first, last), (tz, first, last)


def test_timeline_counts_only_the_callers_referrals(server):
    mine, theirs = new_referrer(server), new_referrer(server)
    insert_referrals(server, mine.id, [(ms("2026-05-05T12:00:00Z"), "SUCCESS")])
    insert_referrals(server, theirs.id, [(ms("2026-05-05T12:00:00Z"), "PENDING")] * 3)
    window = {"from": "2026-05-01", "to": "2026-05-31"}
    assert timeline(server, mine, **window) == [{"date": "2026-05-05", "count": 1, "successful": 1}]


@pytest.mark.parametrize("tz", [None, "America/New_York", "Asia/Kolkata"])
def test_timeline_defaults_to_the_last_30_days_ending_today(server, tz):
    referrer = new_referrer(server)
    now = now_ms()
    items = [(now - 60_000, "SUCCESS"), (now - 28 * DAY_MS, "PENDING"), (now - 31 * DAY_MS, "PENDING"),
             (now - 45 * DAY_MS, "SUCCESS")]
    insert_referrals(server, referrer.id, items)
    params = {"tz": tz} if tz else {}
    answer = timeline(server, referrer, **params)
    zone = zone_of(tz or "UTC")
    today = dt.datetime.now(zone).date()
    assert all(today - dt.timedelta(days=29) <= dt.date.fromisoformat(day["date"]) <= today for day in answer)
    assert sum(day["count"] for day in answer) == 2 and sum(day["successful"] for day in answer) == 1
    # `from` alone still ends today; `to` alone starts 29 days before it.
    only_from = timeline(server, referrer, **{"from": (today - dt.timedelta(days=40)).isoformat()}, **params)
    assert sum(day["count"] for day in only_from) == 3  # not the 45-day-old one
    only_to = timeline(server, referrer, to=(today - dt.timedelta(days=30)).isoformat(), **params)
    assert sum(day["count"] for day in only_to) == 2  # the 31- and 45-day-old ones


@pytest.mark.parametrize("first, last", [("2024-01-01", "2024-12-31"), ("2025-01-01", "2026-01-01"),
                                         ("2026-06-01", "2026-06-01")])
def test_timeline_accepts_ranges_up_to_366_days(server, first, last):
    who = lf.user(server)
    assert get(server, "/api/referral/analytics/timeline", who, **{"from": first, "to": last}).status_code == 200


@pytest.mark.parametrize("params", [
    {"from": "2024-01-01", "to": "2025-01-01"},  # 367 days
    {"from": "2020-01-01", "to": "2026-01-01"},
    {"from": "2026-03-02", "to": "2026-03-01"},  # from after to
    {"from": "2026-02-30", "to": "2026-03-01"},
    {"from": "2026-1-1"},
    {"to": "yesterday"},
    {"from": "2026-01-01T00:00:00Z"},
    {"from": ""},
    {"tz": "Mars/Olympus_Mons"},
    {"tz": "+25:00"},
    {"tz": "+05:60"},
    {"tz": "0530"},
    {"tz": "../../../etc/passwd"},
    {"tz": ""},
])
def test_timeline_refuses_bad_input(server, params):
    who = lf.user(server)
    body = assert_error(get(server, "/api/referral/analytics/timeline", who, **params), 400, "validation_error")
    field = "tz" if "tz" in params else "from" if "from" in params else "to"
    assert f"'{field}'" in body["error"], body


# --------------------------------------------------------------------------
# access


USER_ROUTES = ["/api/referral/analytics/summary", "/api/referral/analytics/list", "/api/referral/analytics/timeline",
               "/api/referrals/analytics/summary", "/api/referrals/analytics/list",
               "/api/referrals/analytics/timeline"]
ADMIN_ROUTES = ["/api/admin/referral/top", "/api/admin/referrals/top", "/api/admin/stats"]


@pytest.mark.parametrize("path", USER_ROUTES + ADMIN_ROUTES)
def test_anonymous_callers_are_401(server, path):
    assert_error(get(server, path), 401, "missing_token")
    assert_error(lf.get(server, path, {"Authorization": "Bearer nope"}), 401, "invalid_token")


@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_views_refuse_users_with_403(server, path):
    assert_error(get(server, path, lf.user(server)), 403, "forbidden")


def test_original_paths_answer_like_the_canonical_ones(server):
    referrer = new_referrer(server)
    insert_referrals(server, referrer.id, [(ms("2026-04-01T10:00:00Z"), "SUCCESS"), (now_ms(), "PENDING")])
    for view, params in (("summary", {}), ("list", {"limit": 1}), ("timeline", {"from": "2026-03-01"})):
        original = get(server, f"/api/referrals/analytics/{view}", referrer, **params)
        canonical = get(server, f"/api/referral/analytics/{view}", referrer, **params)
        assert (original.status_code, original.json()) == (canonical.status_code, canonical.json())
    link = get(server, "/api/referrals/analytics/list", referrer, limit=1).headers["Link"]
    assert link.startswith("</api/referrals/analytics/list?limit=1&cursor=")


# --------------------------------------------------------------------------
# admin: top and stats (a fresh database each, so totals are the test's own)


@pytest.fixture
def fresh(make_server):
    return make_server(env=lf.env())


def referrer_without_login(server) -> str:
    """A verified user with a code, written straight into the database."""
    user_id, code_id = str(uuid.uuid4()), str(uuid.uuid4())
    email = f"top-{user_id}@example.com"
    code = "TOP-" + "".join(random.choice(lf.CODE_ALPHABET) for _ in range(8))
    execute_many(server, [
        ("INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, is_admin, created_at) "
         "VALUES (%s, %s, %s, %s, '!no-login', 1, 0, %s)", [(user_id, f"Top {user_id[:8]}", email, email, now_ms())]),
        ("INSERT INTO referral_codes (id, user_id, code, uses, created_at) VALUES (%s, %s, %s, 0, %s)",
         [(code_id, user_id, code, now_ms())]),
        (COUNT_USERS, [("users", 1), ("verified", 1)]),
    ])
    return user_id


def test_top_orders_by_successful_then_total(fresh):
    server = fresh
    boss = lf.admin(server)
    # (successful, pending) per referrer, with ties on both keys.
    shapes = [(5, 0), (5, 3), (2, 9), (9, 1), (0, 4), (2, 9), (0, 0), (1, 1), (7, 0), (3, 3), (3, 2), (4, 4)]
    for successful, pending in shapes:
        referrer_id = referrer_without_login(server)
        insert_referrals(server, referrer_id, [(now_ms(), "SUCCESS")] * successful + [(now_ms(), "PENDING")] * pending
                         + ([(now_ms(), "REJECTED")] if successful == pending == 0 else []))
    independent = sorted(
        ((-int(succ), -int(total), user_id) for user_id, succ, total in server.query(
            "SELECT referrer_id, SUM(CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END), COUNT(*) FROM referrals "
            "GROUP BY referrer_id")))
    expected = [{"user_id": user_id, "successful_referrals": -succ, "total_referrals": -total}
                for succ, total, user_id in independent]
    emails = dict(server.query("SELECT id, email FROM users"))
    names = dict(server.query("SELECT id, name FROM users"))

    def listed(**params):
        answer = get(server, "/api/admin/referral/top", boss, **params)
        assert answer.status_code == 200, answer.text
        for item in answer.json():
            assert set(item) == {"user_id", "name", "email", "successful_referrals", "total_referrals"}
            assert (item["email"], item["name"]) == (emails[item["user_id"]], names[item["user_id"]])
        return [{key: item[key] for key in ("user_id", "successful_referrals", "total_referrals")}
                for item in answer.json()]

    assert listed() == expected[:10]
    assert listed(limit=3) == expected[:3]
    assert listed(limit=100) == expected
    assert get(server, "/api/admin/referrals/top", boss, limit=3).json() == \
        get(server, "/api/admin/referral/top", boss, limit=3).json()
    for bad in ("0", "101", "x", "5x", ""):
        assert_error(get(server, "/api/admin/referral/top", boss, limit=bad), 400, "validation_error")
    assert listed(cursor="anything") == expected[:10]  # not paginated: an unknown parameter


def independent_totals(server) -> dict:
    users, verified = server.query("SELECT COUNT(*), SUM(CASE WHEN is_verified = 1 THEN 1 ELSE 0 END) FROM users")[0]
    referrals = {status: 0 for status in STATUSES}
    referrals.update({status: int(n) for status, n in server.query(
        "SELECT status, COUNT(*) FROM referrals GROUP BY status")})
    units = {unit: {status: {"count": 0, "value": 0} for status in ("PENDING", "CREDITED", "REVOKED")}
             for unit in ("POINTS", "CASH")}
    by_status = {status: 0 for status in ("PENDING", "CREDITED", "REVOKED")}
    for unit, status, count, value in server.query(
            "SELECT reward_unit, status, COUNT(*), SUM(reward_value) FROM rewards GROUP BY reward_unit, status"):
        units[unit][status] = {"count": int(count), "value": int(value)}
        by_status[status] += int(count)
    return {"users": {"total": int(users), "verified": int(verified)},
            "referrals": {"total": sum(referrals.values()), "by_status": referrals},
            "rewards": {"total": sum(by_status.values()), "by_status": by_status, "by_unit": units}}


def test_stats_match_independent_sql_counts(fresh):
    server = fresh
    boss = lf.admin(server)
    empty = get(server, "/api/admin/stats", boss)
    assert empty.status_code == 200, empty.text
    assert empty.json() == independent_totals(server)
    assert empty.json()["referrals"] == {"total": 0, "by_status": {"PENDING": 0, "SUCCESS": 0, "REJECTED": 0}}
    lf.config(server, boss, "SIGNUP", 100, "POINTS")
    lf.config(server, boss, "SIGNUP", 250, "CASH", beneficiary="REFEREE")
    referrer = new_referrer(server)
    referral_ids = [lf.refer(server, referrer)[1] for _ in range(4)]
    assert lf.credit(server, boss, lf.reward_of(server, referral_ids[0])["id"]).status_code == 200
    assert lf.credit(server, boss, lf.reward_of(server, referral_ids[1], "REFEREE")["id"]).status_code == 200
    for beneficiary in ("REFERRER", "REFEREE"):
        assert lf.revoke(server, boss, lf.reward_of(server, referral_ids[2], beneficiary)["id"]).status_code == 200
    assert flows.signup(server, flows.new_email("unverified")).status_code == 201
    insert_referrals(server, referrer.id, [(now_ms(), "PENDING"), (now_ms(), "SUCCESS")])
    stats = get(server, "/api/admin/stats", boss).json()
    assert stats == independent_totals(server)
    assert stats["users"]["total"] == stats["users"]["verified"] + 1
    assert stats["referrals"]["by_status"] == {"PENDING": 2, "SUCCESS": 3, "REJECTED": 1}
    assert stats["rewards"]["by_unit"]["CASH"]["CREDITED"] == {"count": 1, "value": 250}
    invariants.stats_match_referrals(server)
