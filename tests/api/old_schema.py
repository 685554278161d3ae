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
