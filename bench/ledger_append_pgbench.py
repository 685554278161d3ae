#!/usr/bin/python3
"""Three ways to append one ledger entry on PostgreSQL, measured with pgbench (issue 17).

  bench/ledger_append_pgbench.py --clients 1,3,8 --seconds 10 --rounds 2

Each pgbench transaction credits one reward as a credit's batch does it:
two reward_counters upserts, the head's lock, the entry, the head's move,
COMMIT, in one of three forms:

  statements   one statement per step (what referrald sent before 2026-12-01)
  lock-in-cte  one statement whose `head` CTE takes the lock with FOR UPDATE
  update-first one statement whose first write is the head's UPDATE (what
               referrald sends for a one-entry batch: src/ledger/ledger_store.cpp)

The hash is SHA-256 over the canonical bytes in SQL in the two one-statement
forms and md5 text in the first (the server hashes in C++ there); the
figure to read is PostgreSQL's CPU per transaction, from the same cluster
and schema (`referrald migrate`), pgbench sharing the cores.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import tempfile

import bench  # bench/bench.py: REPO, harness, cluster_cpu_seconds

PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"

SEED = """
INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, created_at)
  VALUES ('o1', 'U', 'o1@x.test', 'o1@x.test', 'h', 1, 0), ('e1', 'U', 'e1@x.test', 'e1@x.test', 'h', 1, 0);
INSERT INTO referral_codes (id, user_id, code, created_at) VALUES ('c1', 'o1', 'C1', 0);
INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, updated_at)
  VALUES ('r1', 'e1', 'o1', 'c1', 'PENDING', 0, 0);
INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, created_at)
  VALUES ('w1', 'r1', 'o1', 'REFERRER', 'SIGNUP', 100, 'POINTS', 'PENDING', 0);
"""

ADD = ("ON CONFLICT (unit, status, shard) DO UPDATE SET rewards = reward_counters.rewards + excluded.rewards, "
       "value_high = reward_counters.value_high + excluded.value_high, "
       "value_low = reward_counters.value_low + excluded.value_low")
COUNTERS = "INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low) "
COUNTED = ("WITH counted AS (" + COUNTERS + "SELECT d.unit, d.status, CAST(:shard AS INTEGER), d.rewards, d.high, d.low FROM "
           "unnest(CAST('{POINTS,POINTS}' AS TEXT[]), CAST('{PENDING,CREDITED}' AS TEXT[]), "
           "CAST('{-1,1}' AS BIGINT[]), CAST('{0,0}' AS BIGINT[]), CAST('{-100,100}' AS BIGINT[])) "
           "WITH ORDINALITY AS d (unit, status, rewards, high, low, n) ORDER BY d.n " + ADD + " RETURNING 1)")
ENTRY = {"kind": "credited", "reward_id": "w1", "user_id": "o1", "amount": "100", "unit": "POINTS",
         "actor": "system", "reason": "r", "at": "1"}
COLUMNS = "(seq, kind, reward_id, user_id, amount, unit, actor, reason, at, prev_hash, hash)"


def canonical_bytes(seq: str, prev_hash: str) -> str:
    """The canonical layout in SQL, as ledger_store.cpp's canonical_bytes_in_sql writes it."""
    fields = ["'referrald-ledger-v1'", f"CAST({seq} AS TEXT)",
              *(f"CAST('{value}' AS TEXT)" for value in ENTRY.values()), prev_hash]
    return " || ".join(f"int4send(octet_length(convert_to({f}, 'UTF8'))) || convert_to({f}, 'UTF8')"
                       for f in fields)


def values(seq: str, prev_hash: str, hash_: str) -> str:
    return f"{seq}, " + ", ".join(f"'{v}'" for v in ENTRY.values()) + f", {prev_hash}, {hash_}"


def scripts() -> dict[str, str]:
    move = "UPDATE ledger_head SET seq = inserted.seq, hash = inserted.hash, at = inserted.at, " \
           "prev_hash = inserted.prev_hash FROM inserted WHERE ledger_head.id = 1"
    statements = "\n".join([
        *(f"{COUNTERS}VALUES ('POINTS', '{status}', :shard, {n}, 0, {100 * n}) {ADD};"
          for status, n in (("PENDING", -1), ("CREDITED", 1))),
        "SELECT seq + 1 AS next_seq, hash AS prev FROM ledger_head WHERE id = 1 FOR UPDATE \\gset",
        f"WITH inserted AS (INSERT INTO ledger_entries {COLUMNS} VALUES "
        f"({values(':next_seq', ':prev', 'md5(:prev) || md5(:prev)')}) RETURNING *) {move};"])
    lock_in_cte = (
        f"{COUNTED}, head AS (SELECT seq, hash FROM ledger_head WHERE id = 1 AND "
        "(SELECT COUNT(*) FROM counted) >= 0 FOR UPDATE), inserted AS (INSERT INTO ledger_entries "
        f"{COLUMNS} SELECT {values('head.seq + 1', 'head.hash', '')}"
        f"encode(sha256({canonical_bytes('head.seq + 1', 'head.hash')}), 'hex') FROM head RETURNING *) {move};")
    update_first = (
        f"{COUNTED}, moved AS (UPDATE ledger_head SET seq = seq + 1, prev_hash = hash, at = 1, "
        f"hash = encode(sha256({canonical_bytes('seq + 1', 'hash')}), 'hex') WHERE id = 1 AND "
        "(SELECT COUNT(*) FROM counted) >= 0 RETURNING seq, prev_hash, hash) INSERT INTO ledger_entries "
        f"{COLUMNS} SELECT {values('seq', 'prev_hash', 'hash')} FROM moved;")
    begin = "\\set shard random(0, 15)\nBEGIN;\n"
    return {name: begin + body + "\nCOMMIT;\n" for name, body in
            (("statements", statements), ("lock-in-cte", lock_in_cte), ("update-first", update_first))}


def run(url: str, postmaster: int, script: pathlib.Path, clients: int, seconds: int) -> tuple[float, float]:
    """Transactions per second and PostgreSQL's CPU µs per transaction."""
    before = bench.cluster_cpu_seconds(postmaster)
    out = subprocess.run([PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds),
                          "-f", str(script), url], capture_output=True, text=True, check=True).stdout
    cpu = bench.cluster_cpu_seconds(postmaster) - before
    done = int(next(line for line in out.splitlines() if "actually processed" in line).split(":")[1].split("/")[0])
    tps = float(next(line for line in out.splitlines() if line.startswith("tps")).split()[2])
    return tps, cpu * 1e6 / max(done, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(bench.REPO / "build" / "release" / "referrald"))
    parser.add_argument("--clients", default="1,3,8")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    pg = bench.harness.PostgresCluster()
    try:
        url = pg.create_database()
        subprocess.run([args.binary, "migrate"], env=dict(os.environ, DATABASE_URL=url), check=True,
                       capture_output=True)
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=SEED, text=True, check=True)
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        print("| clients | form | tps | PostgreSQL µs/tx |\n|---:|---|---:|---:|")
        with tempfile.TemporaryDirectory() as workdir:
            for clients in map(int, args.clients.split(",")):
                for _ in range(args.rounds):
                    for name, text in scripts().items():
                        script = pathlib.Path(workdir) / f"{name}.sql"
                        script.write_text(text)
                        tps, cpu = run(url, postmaster, script, clients, args.seconds)
                        print(f"| {clients} | {name} | {tps:,.0f} | {cpu:,.0f} |", flush=True)
    finally:
        pg.destroy()


if __name__ == "__main__":
    main()
