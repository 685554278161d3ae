"""POST /api/referral/generate: one code per user, its format and prefix."""

from __future__ import annotations

import re

import pytest

import invariants
import ledger_flows as lf
from checks import assert_error


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss)
    return boss


def test_first_generate_is_201_then_200_with_the_same_code(server):
    someone = lf.user(server)
    first = lf.generate(server, someone)
    assert first.status_code == 201, first.text
    body = first.json()
    assert set(body) == {"id", "referral_code", "referred_by", "my_referrer_id"}
    assert body["referred_by"] == someone.id  # the code's owner, as the original answered
    assert body["my_referrer_id"] is None
    again = lf.generate(server, someone)
    assert again.status_code == 200, again.text
    assert again.json() == body
    assert server.query("SELECT id, code, uses FROM referral_codes WHERE user_id = %s", (someone.id,)) == [
        (body["id"], body["referral_code"], 0)]


def test_code_format_is_prefix_and_eight_unambiguous_characters(server):
    codes = [lf.generate(server, lf.user(server)).json()["referral_code"] for _ in range(6)]
    pattern = re.compile(rf"REF-[{lf.CODE_ALPHABET}]{{8}}")
    for code in codes:
        assert pattern.fullmatch(code), code
    assert len(set(codes)) == len(codes)
    # Over every code the server made so far, no look-alike ever appears.
    stored = "".join(code.split("-", 1)[1] for (code,) in server.query("SELECT code FROM referral_codes"))
    assert not set(stored) & set("0O1IL"), stored


def test_legacy_path_answers_like_the_canonical_one(server):
    someone = lf.user(server)
    canonical = lf.generate(server, someone)
    legacy = lf.post(server, "/api/referrals/generate", someone.headers)
    assert legacy.status_code == 200
    assert legacy.json() == canonical.json()


def test_generate_needs_a_token(server):
    assert_error(lf.post(server, "/api/referral/generate"), 401, "missing_token")


def test_referred_by_is_the_caller_and_my_referrer_id_who_referred_them(server, boss):
    # The original's serializer answered its Referral.referred_by field: the
    # code's owner, i.e. the caller. Who referred the caller has its own name.
    referrer = lf.user(server)
    referee = lf.user(server)
    first = lf.generate(server, referee).json()
    assert (first["referred_by"], first["my_referrer_id"]) == (referee.id, None)
    lf.refer(server, referrer, referee)
    for path in ("/api/referral/generate", "/api/referrals/generate"):
        answer = lf.post(server, path, referee.headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": first["id"], "referral_code": first["referral_code"],
                                 "referred_by": referee.id, "my_referrer_id": referrer.id}
    # The referrer was referred by nobody.
    mine = lf.generate(server, referrer).json()
    assert (mine["referred_by"], mine["my_referrer_id"]) == (referrer.id, None)


@pytest.mark.parametrize("prefix, expected", [("ACME", "ACME"), ("promo7", "PROMO7")])
def test_prefix_comes_from_the_setting(make_server, prefix, expected):
    server = make_server(env=lf.env(REFERRAL_CODE_PREFIX=prefix))
    code = lf.generate(server, lf.user(server)).json()["referral_code"]
    assert re.fullmatch(rf"{expected}-[{lf.CODE_ALPHABET}]{{8}}", code), code


def test_invariants_hold(server):
    invariants.check_all(server)
