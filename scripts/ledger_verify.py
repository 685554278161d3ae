#!/usr/bin/env python3
"""Re-verifies a referrald ledger from its JSON-lines export alone.

    curl -H "Authorization: Bearer $TOKEN" https://host/api/admin/ledger > ledger.jsonl
    scripts/ledger_verify.py ledger.jsonl [--head HASH]

Prints `ok <seq> <hash>` (exit 0) or `broken <seq>: <problem>` (exit 1), as
`referrald ledger verify` does for the chain. Only the Python standard library
is used. The byte layout is docs/ARCHITECTURE.md, "The canonical hash layout":
each field of the entry as a 4-byte big-endian length and its UTF-8 text,
integers in decimal, after the tag "referrald-ledger-v1".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from typing import Iterable, TextIO

GENESIS_HASH = "0" * 64
LAYOUT_TAG = "referrald-ledger-v1"
FIELDS = ("seq", "kind", "reward_id", "user_id", "amount", "unit", "actor", "reason", "at_ms", "prev_hash")


def canonical_bytes(entry: dict) -> bytes:
    out = bytearray()
    for text in [LAYOUT_TAG] + [str(entry[name]) for name in FIELDS]:
        data = text.encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def entry_hash(entry: dict) -> str:
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def verify(entries: Iterable[dict], after: int = 0, prev_hash: str = GENESIS_HASH) -> tuple[bool, int, str]:
    """(True, head seq, head hash) or (False, first broken seq, problem)."""
    seq = after
    for entry in entries:
        if entry.get("seq") != seq + 1:
            return False, seq + 1, "entry missing"
        if entry.get("prev_hash") != prev_hash:
            return False, seq + 1, "prev_hash is not the previous hash"
        if entry_hash(entry) != entry.get("hash"):
            return False, seq + 1, "hash does not match the entry"
        seq, prev_hash = entry["seq"], entry["hash"]
    return True, seq, prev_hash


def read_lines(stream: TextIO) -> Iterable[dict]:
    for line in stream:
        if line.strip():
            yield json.loads(line)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default="-", help="the JSON lines (default: standard input)")
    parser.add_argument("--head", help="the head hash published elsewhere, which the last entry must have")
    args = parser.parse_args(argv)
    with (sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")) as stream:
        ok, seq, detail = verify(read_lines(stream))
    if ok and args.head and args.head != detail:
        ok, detail = False, "the last entry's hash is not the published head"
    print(f"ok {seq} {detail}" if ok else f"broken {seq}: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
