"""Building a database as an earlier release left it, from the migration files
themselves (upgrade tests)."""

from __future__ import annotations


def statements(text: str, engine: str) -> list[str]:
    """The statements of one migration file for `engine`, split as
    src/db/migrations.cpp splits them: `-- dialect:` sections, `;` at a line's end."""
    out, current, active = [], [], True
    for line in text.splitlines():
        if line.startswith("-- dialect:"):
            active = "all" in line or engine in line
            continue
        if not active or line.startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).rstrip().rstrip(";")
            if statement.strip():
                out.append(statement)
            current = []
    return out


# Rewards written without ledger entries (bench/bench.py's seed, the tests
# below) enter the ledger as an upgrade's do (migration 0015): staged as the
# moves that lead to their status, in time order, then hashed by `referrald
# migrate`.
STAGE_LEDGER = """
INSERT INTO ledger_backfill (ord, kind, reward_id, user_id, amount, unit, actor, reason, at)
SELECT ROW_NUMBER() OVER (ORDER BY at, created_at, id, rank), kind, id, user_id, reward_value, reward_unit,
       'system', 'seeded', at
FROM (
  SELECT id, user_id, reward_value, reward_unit, created_at, 'created' AS kind, 0 AS rank, created_at AS at
  FROM rewards
  UNION ALL
  SELECT id, user_id, reward_value, reward_unit, created_at, 'credited', 1, COALESCE(credited_at, created_at)
  FROM rewards WHERE status = 'CREDITED' OR (status = 'REVOKED' AND credited_at IS NOT NULL)
  UNION ALL
  SELECT id, user_id, reward_value, reward_unit, created_at, 'revoked', 2, COALESCE(revoked_at, created_at)
  FROM rewards WHERE status = 'REVOKED'
) AS moves
"""
