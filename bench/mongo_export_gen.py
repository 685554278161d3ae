#!/usr/bin/env python3
"""Writes a synthetic export of the original service (mongoexport JSON lines)
for timing `referrald import-mongo`: N users, one code document per user,
half of them used by the next user, a SIGNUP reward per referral.

    bench/mongo_export_gen.py OUT_DIR N
    time referrald --database-url ... import-mongo OUT_DIR
"""

import json
import pathlib
import sys
import uuid

# A real bcrypt hash (of "password123"); the import does not verify it.
HASH = "$2b$12$KIXQJ4o0N3f1sZbpOuJk4eN7m0PqGgM3c7V0F9wWqkqgY0m2G8s7a"
BASE = 1_704_067_200_000


def main(out: pathlib.Path, count: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    oid = lambda kind, n: f"{kind}{n:022x}"  # noqa: E731
    date = lambda ms: {"$date": {"$numberLong": str(ms)}}  # noqa: E731
    with open(out / "users.json", "w") as users, open(out / "referral.json", "w") as codes, \
            open(out / "reward_ledger.json", "w") as rewards:
        for n in range(count):
            users.write(json.dumps({"_id": {"$oid": oid("a1", n)}, "name": f"User {n}",
                                    "email": f"user{n}@example.com", "password": HASH, "is_verified": True,
                                    "isAdmin": n == 0, "created_at": date(BASE + n * 1000)}) + "\n")
            used = n % 2 == 0 and n + 1 < count
            referral_id = str(uuid.UUID(int=n + 1))
            codes.write(json.dumps({"_id": referral_id, "referral_code": f"SVH-{n:08X}",
                                    "referred_by": {"$oid": oid("a1", n)}, "referred_at": date(BASE + n * 1000),
                                    "referral_code_used": {"$oid": oid("a1", n + 1)} if used else None,
                                    "referral_used_at": date(BASE + n * 1000 + 500) if used else None}) + "\n")
            if used:
                rewards.write(json.dumps({"_id": {"$oid": oid("c1", n)}, "user": {"$oid": oid("a1", n)},
                                          "referral": referral_id, "reward_type": "SIGNUP", "reward_value": 100,
                                          "reward_unit": "POINTS", "status": ["PENDING", "CREDITED"][n % 4 // 2],
                                          "created_at": date(BASE + n * 1000 + 600)}) + "\n")
    (out / "reward_config.json").write_text(json.dumps(
        {"_id": {"$oid": oid("b1", 1)}, "reward_type": "SIGNUP", "reward_value": 100, "reward_unit": "POINTS",
         "is_active": True, "created_at": date(BASE)}) + "\n")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), int(sys.argv[2]))
