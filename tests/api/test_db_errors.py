"""An unexpected database error is logged by its engine code and statement,
never with SOCI's full message, which lists every bound value (issue 12:
password hashes and emails reached the log)."""

from __future__ import annotations

import re

import flows
from checks import assert_error

BLOCK_SIGNUPS = {
    "sqlite": ["CREATE TRIGGER block_signups BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'blocked'); END"],
    "postgresql": [
        "CREATE FUNCTION block_signups() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'blocked' USING ERRCODE = 'P0001'; END $$",
        "CREATE TRIGGER block_signups BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION block_signups()",
    ],
}
ENGINE_CODE = {"sqlite": re.compile(r"SQLite \d+"), "postgresql": re.compile(r"SQLSTATE P0001")}


def test_unexpected_database_error_logs_no_bound_value(make_server, backend):
    server = make_server(env={"RATE_LIMIT_PER_IP": "0"})
    for statement in BLOCK_SIGNUPS[backend]:
        server.query(statement)
    email = flows.new_email("secret-mailbox")
    name = "Secret Name 7f3a"
    answer = flows.signup(server, email, name=name)
    assert_error(answer, 500, "internal_error")
    error = server.wait_for_line(lambda line: line.get("msg") == "unhandled error")
    assert "signup" in error["route"], error
    assert ENGINE_CODE[backend].search(error["detail"]), error
    assert "INSERT INTO users" in error["detail"], error
    log = server.log_text()
    for secret in (email, name, "$argon2", "$2b$"):
        assert secret not in log, f"{secret!r} is in the server log:\n{log[-3000:]}"
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,)) == [(0,)]
