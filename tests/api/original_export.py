"""Builds a `mongoexport` folder of the original service, as the import tests
need it: real bcrypt hashes made now (libxcrypt through ctypes, the library
the server verifies them with), every collection, and the odd cases.

The data, by user (ids are ObjectIds, kept by the import):

  admin      verified admin, $2b$ hash
  referrer   $2a$ hash; three codes (one document each, as the original made
             them): the oldest SVH-OLD001 used by referee1, svh-old002 used by
             referee2, and the newest SVH-02PWKO used by referee3. SVH-OLD001
             is the code (the original showed the oldest); the other two stay
             valid as its aliases.
  referee1   $2y$ hash; its referral has a CREDITED reward -> SUCCESS
  referee2   its referral has a PENDING referrer reward and a PENDING
             referee reward -> PENDING
  referee3   its referral has a REVOKED reward -> REJECTED
  unverified never verified its email
  owner      one unused code, stored in lower case

reward_config holds two active SIGNUP configs (only the older stays active:
the original paid with it)
and an inactive FIRST_ORDER one; otps and session hold a few documents.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import json
import pathlib

PASSWORDS = {
    "admin": "admin's old password",
    "referrer": "referrer old pass 1",
    "referee1": "referee one pass 1",
    "referee2": "referee two pass 2",
    "referee3": "referee three pass 3",
    "unverified": "unverified pass 1",
    "owner": "owner old pass 1",
}
PREFIXES = {"admin": "$2b$", "referrer": "$2a$", "referee1": "$2y$"}  # the rest: $2b$

IDS = {name: f"65a1{index:020x}" for index, name in enumerate(PASSWORDS, start=1)}
EMAILS = {name: f"{name}@example.com" for name in PASSWORDS}
EMAILS["admin"] = "  Admin@Example.COM "  # the original kept what was typed

REFERRALS = {  # referral document _id (UUID text) per referee
    "referee1": "0d9e8f1c-1111-4a2b-9c3d-000000000001",
    "referee2": "0d9e8f1c-1111-4a2b-9c3d-000000000002",
    "referee3": "0d9e8f1c-1111-4a2b-9c3d-000000000003",
}
UNUSED_REFERRAL = "0d9e8f1c-1111-4a2b-9c3d-000000000004"
KEPT_CODE = "SVH-OLD001"

REWARDS = {  # reward_ledger _id -> (referee whose referral, user, value, status)
    "65c100000000000000000001": ("referee1", "referrer", 100, "CREDITED"),
    "65c100000000000000000002": ("referee2", "referrer", 150, "PENDING"),
    "65c100000000000000000003": ("referee2", "referee2", 50, "PENDING"),
    "65c100000000000000000004": ("referee3", "referrer", 150, "REVOKED"),
}
PENDING_REFERRER_REWARD = "65c100000000000000000002"
CONFIGS = {
    "65b100000000000000000001": ("SIGNUP", 100, "POINTS", True),  # older: stays active
    "65b100000000000000000002": ("SIGNUP", 150, "POINTS", True),
    "65b100000000000000000003": ("FIRST_ORDER", 500, "CASH", False),
}
OLDEST_ACTIVE_CONFIG = "65b100000000000000000001"

DAY = 86_400_000
BASE = 1_704_067_200_000  # 2024-01-01T00:00:00Z


# --------------------------------------------------------------------------
# bcrypt, made by libxcrypt


def _libcrypt():
    library = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    library.crypt_gensalt.restype = ctypes.c_char_p
    library.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    library.crypt.restype = ctypes.c_char_p
    library.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return library


def bcrypt(password: str, prefix: str = "$2b$", cost: int = 4) -> str:
    """A bcrypt hash as Python's bcrypt (the original's library) makes it."""
    library = _libcrypt()
    setting = library.crypt_gensalt(prefix.encode(), cost, None, 0)
    assert setting, f"crypt_gensalt refused {prefix}"
    hashed = library.crypt(password.encode(), setting).decode()
    assert hashed.startswith(prefix) and len(hashed) == 60, hashed
    return hashed


# --------------------------------------------------------------------------
# Extended JSON in the three shapes mongoexport writes


class Oid(str):
    pass


class Date(int):
    pass


class Int(int):
    pass


def iso(ms: int) -> str:
    """As the server answers: always three digits of milliseconds."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def mongo_iso(ms: int) -> str:
    """As mongoexport prints a relaxed $date (Go's .999 layout): the
    milliseconds without trailing zeros, no fraction at all when zero."""
    seconds = iso(ms)[:19]
    fraction = f"{ms % 1000:03d}".rstrip("0")
    return seconds + (f".{fraction}" if fraction else "") + "Z"


def extended(value, style: str):
    """relaxed: ISO dates, plain numbers; canonical: $numberLong/$numberInt
    everywhere; legacy: {"$date": <ms>} as older tools wrote."""
    if isinstance(value, dict):
        return {key: extended(item, style) for key, item in value.items()}
    if isinstance(value, list):
        return [extended(item, style) for item in value]
    if isinstance(value, Oid):
        return {"$oid": str(value)}
    if isinstance(value, Date):
        if style == "canonical":
            return {"$date": {"$numberLong": str(int(value))}}
        return {"$date": int(value)} if style == "legacy" else {"$date": mongo_iso(int(value))}
    if isinstance(value, Int):
        return {"$numberInt": str(int(value))} if style == "canonical" else int(value)
    return value


# --------------------------------------------------------------------------
# The collections


def users(hashes: dict) -> list[dict]:
    documents = []
    for index, name in enumerate(PASSWORDS):
        documents.append({
            "_id": Oid(IDS[name]), "name": name.capitalize(), "email": EMAILS[name], "password": hashes[name],
            "is_verified": name != "unverified", "isAdmin": name == "admin",
            "created_at": Date(BASE + index * DAY),
        })
    return documents


def referral_documents() -> list[dict]:
    codes = {"referee1": KEPT_CODE, "referee2": "svh-old002", "referee3": "SVH-02PWKO"}
    documents = []
    for index, (referee, code) in enumerate(codes.items()):
        documents.append({
            "_id": REFERRALS[referee], "referral_code": code, "referred_by": Oid(IDS["referrer"]),
            "referred_at": Date(BASE + (10 + index) * DAY), "referral_code_used": Oid(IDS[referee]),
            "referral_used_at": Date(BASE + (20 + index) * DAY),
        })
    documents.append({
        "_id": UNUSED_REFERRAL, "referral_code": "svh-unused7", "referred_by": Oid(IDS["owner"]),
        "referred_at": Date(BASE + 12 * DAY), "referral_code_used": None, "referral_used_at": None,
    })
    return documents


def reward_configs() -> list[dict]:
    return [{"_id": Oid(config_id), "reward_type": kind, "reward_value": Int(value), "reward_unit": unit,
             "is_active": active, "created_at": Date(BASE + index * DAY)}
            for index, (config_id, (kind, value, unit, active)) in enumerate(CONFIGS.items())]


def reward_ledger() -> list[dict]:
    documents = []
    for index, (reward_id, (referee, user, value, status)) in enumerate(REWARDS.items()):
        documents.append({
            "_id": Oid(reward_id), "user": Oid(IDS[user]), "referral": REFERRALS[referee], "reward_type": "SIGNUP",
            "reward_value": Int(value), "reward_unit": "POINTS", "status": status,
            "created_at": Date(BASE + (30 + index) * DAY),
        })
    return documents


def otps() -> list[dict]:
    return [{"_id": Oid(f"65d1{index:020x}"), "email": EMAILS["unverified"], "otp": "123456",
             "created_at": Date(BASE)} for index in range(2)]


def sessions() -> list[dict]:
    return [{"_id": Oid("65e100000000000000000001"), "user": Oid(IDS["admin"]), "token": "old-jwt",
             "created_at": Date(BASE)}]


def collections(hashes: dict) -> dict[str, list[dict]]:
    return {"users": users(hashes), "referral": referral_documents(), "reward_config": reward_configs(),
            "reward_ledger": reward_ledger(), "otps": otps(), "session": sessions()}


def make_hashes() -> dict:
    return {name: bcrypt(password, PREFIXES.get(name, "$2b$")) for name, password in PASSWORDS.items()}


def write(folder: pathlib.Path, layout: str = "lines", style: str = "relaxed", hashes: dict | None = None,
          documents: dict | None = None) -> pathlib.Path:
    """layout: lines (users.json, JSON lines), jsonl (users.jsonl), array
    (--jsonArray --pretty); style: relaxed, canonical or legacy."""
    folder.mkdir(parents=True, exist_ok=True)
    documents = documents or collections(hashes or make_hashes())
    for name, items in documents.items():
        converted = [extended(item, style) for item in items]
        if layout == "array":
            text = json.dumps(converted, indent=2) + "\n"
        else:
            text = "".join(json.dumps(item) + "\n" for item in converted)
        (folder / f"{name}.{'jsonl' if layout == 'jsonl' else 'json'}").write_text(text, encoding="utf-8")
    return folder


# --------------------------------------------------------------------------
# Moving in: what a real export of the original holds that the import must
# keep (issue 13). Written as the original stores its documents: bcrypt at
# its default cost 12, references as bare ObjectIds, referral _ids as UUID
# text, null on unused codes, dates with mongoexport's short milliseconds.
#
#   anna     signed up as Anna@Bücher.de (an internationalised domain)
#   racer    three codes from racing generate calls: the oldest SVH-FIRST2
#            used by racee1, SVH-LATER3 used by racee2, SVH-SPARE4 unused
#   racee1, racee2   referred by racer
#
# reward_config: two active SIGNUP configs, the older 100 POINTS (what the
# original paid), the newer 7 CASH.

MOVING_IN_PASSWORDS = {
    "anna": "anna's old password",
    "racer": "racer old password",
    "racee1": "racee one password",
    "racee2": "racee two password",
}
MOVING_IN_IDS = {name: f"66b1{index:020x}" for index, name in enumerate(MOVING_IN_PASSWORDS, start=1)}
MOVING_IN_EMAILS = {name: f"{name}@example.org" for name in MOVING_IN_PASSWORDS}
MOVING_IN_EMAILS["anna"] = "Anna@Bücher.de"
ANNA_EMAIL = "anna@xn--bcher-kva.de"
RACER_CODES = {  # code -> (referral _id, ms after the first, referee or None)
    "SVH-FIRST2": ("7f1c2a4e-2222-4b5c-8d6e-000000000001", 0, "racee1"),
    "SVH-LATER3": ("7f1c2a4e-2222-4b5c-8d6e-000000000002", 120, "racee2"),
    "SVH-SPARE4": ("7f1c2a4e-2222-4b5c-8d6e-000000000003", 350, None),
}
RACER_CODE = "SVH-FIRST2"
MOVING_IN_CONFIGS = {  # _id -> (value, unit, created day); both active
    "66c100000000000000000001": (100, "POINTS", 1),
    "66c100000000000000000002": (7, "CASH", 2),
}
PAID_CONFIG = "66c100000000000000000001"
RACE_START = BASE + 5 * DAY + 30_500  # 00:00:30.5 on day 5


def moving_in_hashes() -> dict:
    return {name: bcrypt(password, "$2b$", cost=12) for name, password in MOVING_IN_PASSWORDS.items()}


def moving_in(hashes: dict) -> dict[str, list[dict]]:
    users = [{"_id": Oid(MOVING_IN_IDS[name]), "name": name.capitalize(), "email": MOVING_IN_EMAILS[name],
              "password": hashes[name], "is_verified": True, "isAdmin": False,
              "created_at": Date(BASE + index * DAY + 250)}
             for index, name in enumerate(MOVING_IN_PASSWORDS)]
    referral = []
    for code, (referral_id, offset, referee) in RACER_CODES.items():
        referral.append({
            "_id": referral_id, "referral_code": code, "referred_by": Oid(MOVING_IN_IDS["racer"]),
            "referred_at": Date(RACE_START + offset),
            "referral_code_used": Oid(MOVING_IN_IDS[referee]) if referee else None,
            "referral_used_at": Date(RACE_START + DAY + offset) if referee else None,
        })
    configs = [{"_id": Oid(config_id), "reward_type": "SIGNUP", "reward_value": Int(value), "reward_unit": unit,
                "is_active": True, "created_at": Date(BASE + day * DAY)}
               for config_id, (value, unit, day) in MOVING_IN_CONFIGS.items()]
    ledger = [{"_id": Oid("66d100000000000000000001"), "user": Oid(MOVING_IN_IDS["racer"]),
               "referral": RACER_CODES[RACER_CODE][0], "reward_type": "SIGNUP", "reward_value": Int(100),
               "reward_unit": "POINTS", "status": "CREDITED", "created_at": Date(RACE_START + DAY + 5)}]
    return {"users": users, "referral": referral, "reward_config": configs, "reward_ledger": ledger}
