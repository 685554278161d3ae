"""`referrald import-mongo DIR`: the original's mongoexport
files move in whole, keep their ids, follow today's rules, and old bcrypt
passwords still log in (and are re-hashed to Argon2id on the way)."""

from __future__ import annotations

import json

import pytest
import requests

import flows
import invariants
import original_export as original
from checks import assert_error

ENV = {"RATE_LIMIT_PER_IP": "0"}
TABLES = {  # table -> ORDER BY, for snapshots
    "users": "id", "referral_codes": "id", "referral_code_aliases": "id", "referrals": "id",
    "reward_configs": "id", "rewards": "id",
    "reward_events": "reward_id, to_status", "referrer_stats": "user_id",
}
ID = original.IDS


def import_dir(server, folder):
    return flows.cli(server, "import-mongo", str(folder))


def snapshot(server) -> dict:
    return {table: server.query(f"SELECT * FROM {table} ORDER BY {order}") for table, order in TABLES.items()}


def counts(stdout: str) -> dict:
    """'users: 7 documents, 7 imported, 0 skipped' -> {"users": (7, 7, 0)}."""
    out = {}
    for line in stdout.splitlines():
        name, _, rest = line.partition(": ")
        if rest.endswith(" skipped") and " documents, " in rest:
            numbers = [int(part.split()[0]) for part in rest.split(", ")]
            out[name] = tuple(numbers)
    return out


def login(server, name: str, password: str | None = None) -> requests.Response:
    email = original.EMAILS[name].strip().lower()
    return flows.login(server, email, password or original.PASSWORDS[name])


def headers_for(server, name: str) -> dict:
    answer = login(server, name)
    assert answer.status_code == 200, answer.text
    return flows.bearer(answer.json()["token"])


def stored_hash(server, name: str) -> str:
    return server.query("SELECT password_hash FROM users WHERE id = %s", (ID[name],))[0][0]


@pytest.fixture(scope="module")
def hashes():
    return original.make_hashes()  # bcrypt is slow on purpose: once per module


@pytest.fixture
def imported(make_server, tmp_path, hashes):
    """A server whose database holds the fixture, imported once."""
    server = make_server(env=ENV)
    folder = original.write(tmp_path / "export", hashes=hashes)
    done = import_dir(server, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return server, done, folder


# --------------------------------------------------------------------------
# what lands where


def test_import_prints_counts_per_collection_and_notes(imported):
    _, done, _ = imported
    assert counts(done.stdout) == {
        "users": (7, 7, 0), "referral": (4, 4, 0), "reward_config": (3, 3, 0), "reward_ledger": (4, 4, 0),
    }
    assert "otps: 2 documents, not imported" in done.stdout
    assert "session: 1 documents, not imported" in done.stdout
    assert "(2 referral codes, 2 code aliases and 3 referrals created)" in done.stdout
    assert "(active: SIGNUP pays 100 POINTS (config 65b100000000000000000001" in done.stdout
    notes = [line for line in done.stdout.splitlines() if line.startswith("note: ")]
    assert any("referral.json:1:" in note and "had 3 codes; kept SVH-OLD001 (the oldest" in note
               and "SVH-OLD002, SVH-02PWKO still apply as its aliases" in note for note in notes), notes
    assert any("reward_config.json:2:" in note and "imported inactive" in note
               and "config 65b100000000000000000001 stays active" in note for note in notes), notes


def test_users_keep_their_ids_and_are_normalised(imported):
    server, _, _ = imported
    rows = server.query("SELECT id, name, email, canonical_email, is_verified, is_admin, created_at FROM users "
                        "ORDER BY id")
    assert [row[0] for row in rows] == sorted(ID.values())
    admin = next(row for row in rows if row[0] == ID["admin"])
    assert admin[1:] == ("Admin", "admin@example.com", "admin@example.com", 1, 1, original.BASE)
    unverified = next(row for row in rows if row[0] == ID["unverified"])
    assert unverified[4:6] == (0, 0)
    assert all(stored_hash(server, name).startswith(original.PREFIXES.get(name, "$2b$")) for name in ID)


def test_codes_one_per_owner_the_oldest_upper_cased_with_uses_counted(imported):
    server, _, _ = imported
    assert server.query("SELECT id, user_id, code, uses FROM referral_codes ORDER BY code") == [
        (original.REFERRALS["referee1"], ID["referrer"], "SVH-OLD001", 3),
        (original.UNUSED_REFERRAL, ID["owner"], "SVH-UNUSED7", 0),
    ]
    assert server.query("SELECT id, code, code_id FROM referral_code_aliases ORDER BY code") == [
        (original.REFERRALS["referee3"], "SVH-02PWKO", original.REFERRALS["referee1"]),
        (original.REFERRALS["referee2"], "SVH-OLD002", original.REFERRALS["referee1"]),
    ]


def test_referrals_take_their_status_from_their_rewards(imported):
    server, _, _ = imported
    rows = server.query("SELECT id, referee_id, referrer_id, code_id, status, created_at FROM referrals ORDER BY id")
    kept = original.REFERRALS["referee1"]
    expected = []
    for day, (referee, status) in enumerate([("referee1", "SUCCESS"), ("referee2", "PENDING"),
                                             ("referee3", "REJECTED")], start=20):
        expected.append((original.REFERRALS[referee], ID[referee], ID["referrer"], kept, status,
                         original.BASE + day * original.DAY))
    assert rows == expected
    assert server.query("SELECT total, successful, pending, rejected FROM referrer_stats WHERE user_id = %s",
                        (ID["referrer"],)) == [(3, 1, 1, 1)]


# The ledger entries an imported reward of each status gets: the moves that lead to it.
IMPORTED_MOVES = {"PENDING": [(None, "PENDING")], "CREDITED": [(None, "PENDING"), ("PENDING", "CREDITED")],
                  "REVOKED": [(None, "PENDING"), ("PENDING", "REVOKED")]}


def test_rewards_beneficiaries_and_their_imported_ledger_entries(imported):
    server, _, _ = imported
    rows = server.query("SELECT id, user_id, beneficiary, reward_value, status, credited_at, revoked_at "
                        "FROM rewards ORDER BY id")
    expected = []
    for reward_id, (_, user, value, status) in sorted(original.REWARDS.items()):
        expected.append((reward_id, ID[user], "REFEREE" if user.startswith("referee") else "REFERRER", value,
                         status, None, None))
    assert rows == expected
    events = server.query("SELECT reward_id, from_status, to_status, actor_id, reason FROM reward_events "
                          "ORDER BY reward_id, CAST(id AS BIGINT)")
    assert events == [(reward_id, before, after, None, "imported")
                      for reward_id, (_, _, _, status) in sorted(original.REWARDS.items())
                      for before, after in IMPORTED_MOVES[status]]
    assert flows.cli(server, "ledger", "verify").returncode == 0


def test_imported_rewards_are_counted_for_stats_exactly_then_saturated(make_server, tmp_path, hashes):
    # Imported values may go up to 2^63-1 (docs/API.md, Reward configs): the
    # two PENDING ones sum past it, the others fit. The import's ledger batch
    # creates, credits and revokes, and the reward counters follow it.
    values = {"65c100000000000000000001": 2**63 - 1, "65c100000000000000000002": 2**62,
              "65c100000000000000000003": 2**62, "65c100000000000000000004": 5 * 10**18}
    server = make_server(env=ENV)
    documents = original.collections(hashes)
    for document in documents["reward_ledger"]:
        document["reward_value"] = original.Int(values[str(document["_id"])])
    done = import_dir(server, original.write(tmp_path / "export", documents=documents))
    assert done.returncode == 0, done.stdout + done.stderr
    invariants.reward_counters_match_rewards(server)
    answer = requests.get(server.url("/api/admin/stats"), headers=headers_for(server, "admin"), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rewards"]["by_unit"]["POINTS"] == {
        "PENDING": {"count": 2, "value": 2**63 - 1}, "CREDITED": {"count": 1, "value": 2**63 - 1},
        "REVOKED": {"count": 1, "value": 5 * 10**18}}
    assert flows.cli(server, "ledger", "verify").returncode == 0


def test_only_the_oldest_of_two_active_configs_stays_active(imported):
    # The original paid with RewardConfig.objects(..., is_active=True).first().
    server, _, _ = imported
    assert server.query("SELECT id, reward_type, reward_value, reward_unit, beneficiary, is_active "
                        "FROM reward_configs ORDER BY id") == [
        ("65b100000000000000000001", "SIGNUP", 100, "POINTS", "REFERRER", 1),
        ("65b100000000000000000002", "SIGNUP", 150, "POINTS", "REFERRER", 0),
        ("65b100000000000000000003", "FIRST_ORDER", 500, "CASH", "REFERRER", 0),
    ]


def test_otps_and_sessions_are_not_imported(imported):
    server, _, _ = imported
    assert server.query("SELECT COUNT(*) FROM otps") == [(0,)]
    assert server.query("SELECT COUNT(*) FROM sessions") == [(0,)]


# --------------------------------------------------------------------------
# old passwords


def test_imported_admin_logs_in_with_the_old_password_and_is_rehashed(imported):
    server, _, _ = imported
    assert stored_hash(server, "admin").startswith("$2b$")
    answer = login(server, "admin")
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"] == {"id": ID["admin"], "name": "Admin", "email": "admin@example.com",
                                     "is_verified": True, "is_admin": True,
                                     "created_at": "2024-01-01T00:00:00.000Z"}
    assert stored_hash(server, "admin").startswith("$argon2id$")
    # The new hash holds the same password: a second login still works.
    assert login(server, "admin").status_code == 200


@pytest.mark.parametrize("name, prefix", [("referrer", "$2a$"), ("referee1", "$2y$"), ("referee2", "$2b$")])
def test_every_bcrypt_prefix_logs_in(imported, name, prefix):
    server, _, _ = imported
    before = stored_hash(server, name)
    assert before.startswith(prefix)
    wrong = login(server, name, "not the old password")
    assert_error(wrong, 401, "invalid_credentials")
    assert stored_hash(server, name) == before  # a failed login re-hashes nothing
    assert login(server, name).status_code == 200
    assert stored_hash(server, name).startswith("$argon2id$")


def test_a_nul_byte_does_not_cut_a_bcrypt_password_short(imported):
    # crypt(3) reads C strings: unchecked, "password\0junk" would pass as
    # "password" and the upgrade would then store a hash of the junk. (The
    # JSON layer refuses NUL already; password.cpp checks again.)
    server, _, _ = imported
    answer = login(server, "referee3", original.PASSWORDS["referee3"] + "\u0000junk")
    assert_error(answer, 400, "validation_error")
    assert stored_hash(server, "referee3").startswith("$2b$")
    assert login(server, "referee3").status_code == 200


def test_unverified_imported_user_must_verify_first(imported):
    server, _, _ = imported
    answer = login(server, "unverified")
    assert_error(answer, 403, "email_not_verified")
    assert stored_hash(server, "unverified").startswith("$2b$")  # not upgraded before verification


# --------------------------------------------------------------------------
# the API over imported data


def test_summary_and_history_of_the_imported_referrer_match_the_fixture(imported):
    server, _, _ = imported
    headers = headers_for(server, "referrer")
    summary = requests.get(server.url("/api/referral/analytics/summary"), headers=headers, timeout=30)
    assert summary.status_code == 200, summary.text
    assert summary.json() == {"my_referral_code": "SVH-OLD001", "total_referrals": 3, "successful_referrals": 1,
                              "pending_referrals": 1, "conversion_rate": "33%", "clicks": 0}
    listed = requests.get(server.url("/api/referral/analytics/list"), headers=headers, timeout=30).json()
    names = dict(server.query("SELECT id, name FROM users"))
    assert [(item["used_by_user_id"], item["used_by_name"], item["status"]) for item in listed] == [
        (ID["referee3"], names[ID["referee3"]], "REJECTED"), (ID["referee2"], names[ID["referee2"]], "PENDING"),
        (ID["referee1"], names[ID["referee1"]], "SUCCESS")]
    assert all(item["used_by_name"] for item in listed)
    history = requests.get(server.url("/api/rewards/history"), headers=headers, timeout=30)
    assert history.status_code == 200, history.text
    assert [(item["reward_id"], item["referral_id"], item["reward_value"], item["beneficiary"], item["status"],
             item["created_at"]) for item in history.json()] == [
        ("65c100000000000000000004", original.REFERRALS["referee3"], 150, "REFERRER", "REVOKED",
         original.iso(original.BASE + 33 * original.DAY)),
        ("65c100000000000000000002", original.REFERRALS["referee2"], 150, "REFERRER", "PENDING",
         original.iso(original.BASE + 31 * original.DAY)),
        ("65c100000000000000000001", original.REFERRALS["referee1"], 100, "REFERRER", "CREDITED",
         original.iso(original.BASE + 30 * original.DAY)),
    ]
    referee = requests.get(server.url("/api/rewards/history"), headers=headers_for(server, "referee2"), timeout=30)
    assert [(item["reward_id"], item["beneficiary"]) for item in referee.json()] == [
        ("65c100000000000000000003", "REFEREE")]


def test_imported_admin_credits_an_imported_pending_reward(imported):
    server, _, _ = imported
    admin = headers_for(server, "admin")
    reward_id = original.PENDING_REFERRER_REWARD
    answer = requests.post(server.url(f"/api/admin/rewards/{reward_id}/credit"), headers=admin, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"message": "Reward credited successfully", "reward_id": reward_id,
                             "status": "CREDITED"}
    history = requests.get(server.url(f"/api/admin/rewards/{reward_id}/history"), headers=admin, timeout=30)
    assert [(item["from"], item["to"], item["actor_id"], item["reason"]) for item in history.json()] == [
        (None, "PENDING", None, "imported"), ("PENDING", "CREDITED", ID["admin"], "credited by admin")]
    assert server.query("SELECT status FROM referrals WHERE id = %s", (original.REFERRALS["referee2"],)) == [
        ("SUCCESS",)]
    summary = requests.get(server.url("/api/referral/analytics/summary"), headers=headers_for(server, "referrer"),
                           timeout=30).json()
    assert (summary["successful_referrals"], summary["pending_referrals"], summary["conversion_rate"]) == (2, 0, "66%")


@pytest.mark.parametrize("typed, applied", [(" svh-old001 ", "SVH-OLD001"), (" svh-02pwko ", "SVH-02PWKO")])
def test_imported_codes_and_aliases_still_work_for_new_referees(imported, typed, applied):
    server, _, _ = imported
    _, referee = flows.new_user(server)
    answer = flows.apply_code(server, referee, typed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["referral_code"] == applied
    kept = original.REFERRALS["referee1"]
    assert server.query("SELECT referrer_id, code_id FROM referrals WHERE id = %s", (answer.json()["referral_id"],)) \
        == [(ID["referrer"], kept)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = 'SVH-OLD001'") == [(4,)]
    assert server.query("SELECT total FROM referrer_stats WHERE user_id = %s", (ID["referrer"],)) == [(4,)]


# --------------------------------------------------------------------------
# running it again, other layouts, refusals


def test_second_import_changes_nothing(imported):
    server, _, folder = imported
    before = snapshot(server)
    again = import_dir(server, folder)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == {
        "users": (7, 0, 7), "referral": (4, 0, 4), "reward_config": (3, 0, 3), "reward_ledger": (4, 0, 4),
    }
    assert "(0 referral codes, 0 code aliases and 0 referrals created)" in again.stdout
    assert "note: " not in again.stdout  # what was imported before is skipped quietly
    assert snapshot(server) == before


def deterministic(tables: dict) -> dict:
    """Snapshots without what each run generates (event ids and times)."""
    out = dict(tables)
    out["reward_events"] = [row[1:6] for row in tables["reward_events"]]
    return out


@pytest.mark.parametrize("layout, style", [("jsonl", "canonical"), ("array", "legacy"), ("lines", "canonical")])
def test_every_mongoexport_layout_gives_the_same_rows(imported, make_server, tmp_path, layout, style, hashes):
    reference, _, _ = imported
    server = make_server(env=ENV)
    folder = original.write(tmp_path / f"export-{layout}", layout=layout, style=style, hashes=hashes)
    done = import_dir(server, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert deterministic(snapshot(server)) == deterministic(snapshot(reference))


def test_malformed_line_stops_the_import_and_writes_nothing(make_server, tmp_path, hashes):
    server = make_server(env=ENV)
    folder = original.write(tmp_path / "export", hashes=hashes)
    ledger = (folder / "reward_ledger.json").read_text().splitlines()
    ledger[2] = ledger[2][:-1]  # line 3 loses its closing brace
    (folder / "reward_ledger.json").write_text("\n".join(ledger) + "\n")
    before = snapshot(server)
    done = import_dir(server, folder)
    assert done.returncode != 0
    assert "reward_ledger.json:3:" in done.stderr, done.stderr
    assert "nothing was imported" in done.stderr
    assert snapshot(server) == before


def test_bad_value_names_file_line_and_field(make_server, tmp_path, hashes):
    server = make_server(env=ENV)
    documents = original.collections(hashes)
    documents["reward_config"][1]["reward_value"] = 12.5
    folder = original.write(tmp_path / "export", documents=documents)
    done = import_dir(server, folder)
    assert done.returncode != 0
    assert "reward_config.json:2: 'reward_value'" in done.stderr, done.stderr
    assert server.query("SELECT COUNT(*) FROM users") == [(0,)]


def test_account_made_here_first_keeps_its_email(make_server, tmp_path, hashes):
    server = make_server(env=ENV)
    flows.register(server, email=original.EMAILS["owner"])
    done = import_dir(server, original.write(tmp_path / "export", hashes=hashes))
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)["users"] == (7, 6, 1)
    assert "users.json:7: email owner@example.com already belongs to another account" in done.stdout
    assert "referral.json:4: owner " + ID["owner"] + " was not imported" in done.stdout
    assert server.query("SELECT COUNT(*) FROM referral_codes WHERE code = 'SVH-UNUSED7'") == [(0,)]


def test_missing_folder_or_files_is_an_error(make_server, tmp_path):
    server = make_server(env=ENV)
    done = import_dir(server, tmp_path / "nowhere")
    assert done.returncode != 0 and "is not a folder" in done.stderr
    (tmp_path / "empty").mkdir()
    done = import_dir(server, tmp_path / "empty")
    assert done.returncode != 0 and "holds none of users.json" in done.stderr


def test_missing_collections_are_empty(make_server, tmp_path, hashes):
    server = make_server(env=ENV)
    folder = tmp_path / "users-only"
    folder.mkdir()
    (folder / "users.json").write_text(
        "".join(json.dumps(original.extended(item, "relaxed")) + "\n" for item in original.users(hashes)))
    done = import_dir(server, folder)
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)["users"] == (7, 7, 0)
    assert counts(done.stdout)["reward_ledger"] == (0, 0, 0)


# --------------------------------------------------------------------------
# moving in (issue 13): an IDN address, a user with three codes, two active
# SIGNUP configs; every user checked over HTTP after the import

MOVED = original.MOVING_IN_IDS


@pytest.fixture(scope="module")
def moving_in_hashes():
    return original.moving_in_hashes()  # cost 12, as the original made them: once per module


@pytest.fixture
def moved_in(make_server, tmp_path, moving_in_hashes):
    server = make_server(env=ENV)
    folder = original.write(tmp_path / "moving-in", documents=original.moving_in(moving_in_hashes))
    done = import_dir(server, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return server, done, folder


def moved_login(server, email: str, name: str) -> requests.Response:
    return flows.login(server, email, original.MOVING_IN_PASSWORDS[name])


def moved_headers(server, name: str) -> dict:
    answer = moved_login(server, original.MOVING_IN_EMAILS[name], name)
    assert answer.status_code == 200, answer.text
    return flows.bearer(answer.json()["token"])


def generate(server, headers: dict, path: str = "/api/referral/generate") -> requests.Response:
    return requests.post(server.url(path), headers=headers, timeout=30)


def test_moving_in_report_says_what_was_kept(moved_in):
    _, done, folder = moved_in
    assert '"$date": "2024-01-06T00:00:30.5Z"' in (folder / "referral.json").read_text()
    assert '"$2b$12$' in (folder / "users.json").read_text()
    assert counts(done.stdout) == {
        "users": (4, 4, 0), "referral": (3, 3, 0), "reward_config": (2, 2, 0), "reward_ledger": (1, 1, 0)}
    assert "(1 referral codes, 2 code aliases and 2 referrals created)" in done.stdout
    assert (f"(active: SIGNUP pays 100 POINTS (config {original.PAID_CONFIG}, the oldest active one in the "
            "export: the original paid with it))") in done.stdout
    assert (f"note: referral.json:1: user {MOVED['racer']} had 3 codes; kept SVH-FIRST2 (the oldest, which the "
            "original showed and used); SVH-LATER3, SVH-SPARE4 still apply as its aliases") in done.stdout
    assert "note: reward_config.json:2: config 66c100000000000000000002 imported inactive" in done.stdout
    assert "fails today's address check" not in done.stdout


def test_moved_in_idn_user_logs_in_typed_in_unicode_or_punycode(moved_in):
    server, _, _ = moved_in
    assert server.query("SELECT email, canonical_email FROM users WHERE id = %s", (MOVED["anna"],)) == [
        (original.ANNA_EMAIL, original.ANNA_EMAIL)]
    for typed in ("Anna@Bücher.de", "anna@bücher.de", original.ANNA_EMAIL):
        answer = moved_login(server, typed, "anna")
        assert answer.status_code == 200, (typed, answer.text)
        assert answer.json()["user"]["id"] == MOVED["anna"]
        assert answer.json()["user"]["email"] == original.ANNA_EMAIL


@pytest.mark.parametrize("path", ["/api/referral/generate", "/api/referrals/generate"])
def test_moved_in_racer_generates_the_oldest_code_and_is_its_referred_by(moved_in, path):
    server, _, _ = moved_in
    answer = generate(server, moved_headers(server, "racer"), path)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": original.RACER_CODES["SVH-FIRST2"][0], "referral_code": "SVH-FIRST2",
                             "referred_by": MOVED["racer"], "my_referrer_id": None}


@pytest.mark.parametrize("name", ["racee1", "racee2"])
def test_moved_in_referees_get_a_code_and_see_who_referred_them(moved_in, name):
    server, _, _ = moved_in
    answer = generate(server, moved_headers(server, name))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["referred_by"], body["my_referrer_id"]) == (MOVED[name], MOVED["racer"])


def test_moved_in_alias_applies_for_its_owner_and_pays_the_oldest_config(moved_in):
    server, _, _ = moved_in
    racer = moved_headers(server, "racer")
    self_applied = flows.apply_code(server, racer, "SVH-LATER3")
    assert_error(self_applied, 400, "self_referral")
    _, newcomer = flows.new_user(server)
    answer = flows.apply_code(server, newcomer, " svh-spare4 ")
    assert answer.status_code == 200, answer.text
    assert answer.json()["referral_code"] == "SVH-SPARE4"
    primary = original.RACER_CODES["SVH-FIRST2"][0]
    assert server.query("SELECT referrer_id, code_id FROM referrals WHERE id = %s",
                        (answer.json()["referral_id"],)) == [(MOVED["racer"], primary)]
    assert server.query("SELECT uses FROM referral_codes WHERE id = %s", (primary,)) == [(3,)]
    history = requests.get(server.url("/api/rewards/history"), headers=racer, timeout=30).json()
    newest = history[0]
    assert (newest["referral_id"], newest["reward_type"], newest["reward_value"], newest["reward_unit"]) == (
        answer.json()["referral_id"], "SIGNUP", 100, "POINTS")
    assert server.query("SELECT config_id FROM rewards WHERE referral_id = %s",
                        (answer.json()["referral_id"],)) == [(original.PAID_CONFIG,)]
    summary = requests.get(server.url("/api/referral/analytics/summary"), headers=racer, timeout=30).json()
    assert (summary["my_referral_code"], summary["total_referrals"]) == ("SVH-FIRST2", 3)
    listed = requests.get(server.url("/api/referral/analytics/list"), headers=racer, timeout=30).json()
    assert [item["used_by_user_id"] for item in listed][1:] == [MOVED["racee2"], MOVED["racee1"]]
    # (Not check_all: imported rewards start at their status with no credited_at, by design.)
    for check in (invariants.stats_match_referrals, invariants.code_uses_match_referrals,
                  invariants.one_code_per_user, invariants.alias_texts_are_not_codes,
                  invariants.one_active_config_per_kind, invariants.reward_counters_match_rewards):
        check(server)


def test_moving_in_again_changes_nothing(moved_in):
    server, _, folder = moved_in
    before = snapshot(server)
    again = import_dir(server, folder)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout)["referral"] == (3, 0, 3)
    assert "(0 referral codes, 0 code aliases and 0 referrals created)" in again.stdout
    assert "note: " not in again.stdout
    assert snapshot(server) == before


def test_a_code_made_here_takes_the_export_codes_as_aliases(make_server, tmp_path, moving_in_hashes):
    # The racer's account and code came over by an earlier import (here: the
    # users alone); the codes that arrive later all still apply.
    server = make_server(env=ENV)
    documents = original.moving_in(moving_in_hashes)
    only_users = original.write(tmp_path / "users", documents={"users": documents["users"]})
    assert import_dir(server, only_users).returncode == 0
    mine = generate(server, moved_headers(server, "racer")).json()["referral_code"]
    done = import_dir(server, original.write(tmp_path / "all", documents=documents))
    assert done.returncode == 0, done.stderr
    assert "(0 referral codes, 3 code aliases and 2 referrals created)" in done.stdout
    assert "kept the code the user has here already; SVH-FIRST2, SVH-LATER3, SVH-SPARE4 still apply" in done.stdout
    assert generate(server, moved_headers(server, "racer")).json()["referral_code"] == mine
    _, newcomer = flows.new_user(server)
    assert flows.apply_code(server, newcomer, "SVH-FIRST2").status_code == 200


def test_a_code_text_another_user_holds_passes_to_the_next_oldest(make_server, tmp_path, moving_in_hashes):
    # anna's document comes first and holds SVH-FIRST2 too: racer's next
    # oldest code becomes the code, and the referral made with SVH-FIRST2 in
    # racer's document stays racer's.
    server = make_server(env=ENV)
    documents = original.moving_in(moving_in_hashes)
    documents["referral"].insert(0, {
        "_id": "7f1c2a4e-2222-4b5c-8d6e-0000000000a0", "referral_code": "svh-first2",
        "referred_by": original.Oid(MOVED["anna"]), "referred_at": original.Date(original.RACE_START - 1),
        "referral_code_used": None})
    done = import_dir(server, original.write(tmp_path / "clash", documents=documents))
    assert done.returncode == 0, done.stderr
    assert (f"note: referral.json:2: code SVH-FIRST2 belongs to another user already; it is skipped for user "
            f"{MOVED['racer']}") in done.stdout
    assert "kept SVH-LATER3 (the oldest" in done.stdout and "SVH-SPARE4 still apply as its aliases" in done.stdout
    assert server.query("SELECT user_id, code FROM referral_codes ORDER BY code") == [
        (MOVED["anna"], "SVH-FIRST2"), (MOVED["racer"], "SVH-LATER3")]
    assert server.query("SELECT referrer_id FROM referrals WHERE referee_id = %s", (MOVED["racee1"],)) == [
        (MOVED["racer"],)]
    assert generate(server, moved_headers(server, "racer")).json()["referral_code"] == "SVH-LATER3"
