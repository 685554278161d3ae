"""The command line and configuration: bad settings stop startup with one
line naming them, .env < environment < flags, migrate, --version, SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest
import requests

import harness
import wire


def stderr_lines(done) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("env, name", [
    ({"PORT": "abc"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"JWT_SECRET": "too-short-secret"}, "JWT_SECRET"),
    ({"JWT-SECRET": "too-short-secret"}, "JWT_SECRET"),
    ({"SESSION_TTL": "forever"}, "SESSION_TTL"),
    ({"EMAIL_BACKEND": "carrier-pigeon"}, "EMAIL_BACKEND"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"RATE_LIMIT_PER_IP": "lots"}, "RATE_LIMIT_PER_IP"),
    ({"CORS_ALLOWED_ORIGINS": "https://ok.example", "MAX_BODY_BYTES": "-1"}, "MAX_BODY_BYTES"),
    ({"JWT_SECRET": "a" * 32}, "JWT_SECRET"),
    ({"TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/33"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "proxy.internal"}, "TRUSTED_PROXIES"),
    ({"PUBLIC_URL": "refer.example"}, "PUBLIC_URL"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
    ({"EMAIL_BACKEND": "smtp", "EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": "secret"}, "EMAIL_HOST_PASSWORD"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_bad_setting_exits_2_with_one_line_naming_it(tmp_path, env, name):
    done = harness.run_cli(["serve"], env={"DATABASE_URL": f"sqlite://{tmp_path}/x.db", **env}, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = stderr_lines(done)
    assert len(lines) == 1, lines
    assert name in lines[0], lines
    assert "listening" not in done.stdout


def test_mongo_uri_without_database_url_points_to_import_mongo(tmp_path):
    done = harness.run_cli(["serve"], env={"MONGO_URI": "mongodb://localhost:27017/referral",
                                           "DATABASE_URL": None}, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = stderr_lines(done)
    assert len(lines) == 1, lines
    assert "import-mongo" in lines[0] and "MONGO_URI" in lines[0]
    assert not list(tmp_path.glob("*.db")), "no database may be created on a config error"


def test_missing_env_file_named_on_the_command_line_is_an_error(tmp_path):
    done = harness.run_cli(["--env-file", str(tmp_path / "absent.env"), "serve"], cwd=tmp_path)
    assert done.returncode == 2
    assert "absent.env" in done.stderr


def test_version_prints_the_version(tmp_path):
    done = harness.run_cli(["--version"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"referrald \d+\.\d+\.\d+\S*\n", done.stdout), done.stdout


def test_django_email_backend_names_are_accepted(make_server):
    server = make_server(env={"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                              "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": "1"})
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200


def test_smtp_login_over_a_plain_connection_starts_when_allowed(make_server):
    server = make_server(env={"EMAIL_BACKEND": "smtp", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": "1",
                              "EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": "secret",
                              "EMAIL_ALLOW_PLAINTEXT_AUTH": "true"})
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200


# ---- precedence: .env < environment < flags, observed through the port


@pytest.fixture
def ports():
    return [harness.free_port() for _ in range(3)]


def test_env_file_sets_the_port(make_server, ports):
    server = make_server(env={"PORT": None}, files={".env": f"PORT={ports[0]}\n"})
    assert server.port == ports[0]
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200


def test_explicit_env_file_is_read(make_server, ports, tmp_path):
    env_file = tmp_path / "custom.env"
    env_file.write_text(f"# comment\nexport PORT='{ports[0]}'\n", encoding="utf-8")
    server = make_server(env={"PORT": None}, args=["--env-file", str(env_file), "serve"])
    assert server.port == ports[0]


def test_environment_beats_env_file(make_server, ports):
    server = make_server(env={"PORT": str(ports[1])}, files={".env": f"PORT={ports[0]}\n"})
    assert server.port == ports[1]


def test_port_flag_beats_environment_and_env_file(make_server, ports):
    server = make_server(env={"PORT": str(ports[1])}, files={".env": f"PORT={ports[0]}\n"},
                         args=["--port", str(ports[2]), "serve"])
    assert server.port == ports[2]


def test_set_flag_beats_environment_and_env_file(make_server, ports):
    server = make_server(env={"PORT": str(ports[1])}, files={".env": f"PORT={ports[0]}\n"},
                         args=["--set", f"PORT={ports[2]}", "serve"])
    assert server.port == ports[2]


def test_flags_after_the_subcommand_work_too(make_server, ports):
    server = make_server(env={"PORT": str(ports[1])}, args=["serve", "--port", str(ports[2])])
    assert server.port == ports[2]


def test_bad_value_in_env_file_is_named(tmp_path):
    (tmp_path / ".env").write_text("PORT=eighty\n", encoding="utf-8")
    done = harness.run_cli(["serve"], env={"PORT": None, "DATABASE_URL": f"sqlite://{tmp_path}/x.db"},
                           cwd=tmp_path)
    assert done.returncode == 2
    assert "PORT" in done.stderr


# ---- migrate


def test_migrate_creates_schema_migrations(databases, tmp_path):
    url = databases.new_url()
    done = harness.run_cli(["migrate"], env={"DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    versions = [row[0] for row in harness.query(url, "SELECT version FROM schema_migrations ORDER BY version")]
    assert set(versions) == harness.migration_versions()
    assert len(versions) == len(set(versions))

    again = harness.run_cli(["migrate"], env={"DATABASE_URL": url}, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    rows = harness.query(url, "SELECT COUNT(*) FROM schema_migrations")
    assert rows[0][0] == len(versions)


def test_serve_migrates_too(server):
    versions = {row[0] for row in server.query("SELECT version FROM schema_migrations")}
    assert versions == harness.migration_versions()


# ---- shutdown


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_on_an_idle_server_exits_0_promptly(make_server, sig):
    server = make_server()
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
    started = time.monotonic()
    code = server.stop(sig, timeout=10)
    elapsed = time.monotonic() - started
    assert code == 0, server.log_text()[-2000:]
    assert elapsed < 2.5, f"took {elapsed:.2f}s to stop"
    assert any(line.get("msg") == "stopped" for line in server.lines()), server.log_text()[-2000:]


def test_sigterm_with_an_idle_keep_alive_connection_exits_promptly(make_server):
    server = make_server()
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("GET", "/healthz"))
        assert conn.read_response().status == 200
        started = time.monotonic()
        code = server.stop(signal.SIGTERM, timeout=10)
        assert code == 0
        assert time.monotonic() - started < 2.5


def test_after_sigterm_new_connections_are_refused(make_server):
    server = make_server()
    port = server.port
    assert server.stop() == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
