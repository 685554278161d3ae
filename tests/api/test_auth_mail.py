"""Mail through a real SMTP listener: the code arrives in a text +
HTML mail from DEFAULT_FROM_EMAIL, a mail server that is down delays the
mail but never fails the signup, and /metrics counts what was sent."""

from __future__ import annotations

import re

import pytest
import requests

import flows
from auth_checks import UNLIMITED
from support.smtp_sink import SmtpSink
from checks import wait_until

FROM_NAME = "Referral Team"
FROM_ADDRESS = "noreply@referrald.test"


@pytest.fixture
def sink():
    listener = SmtpSink()
    try:
        yield listener
    finally:
        listener.stop()


def smtp_env(port: int, **extra) -> dict:
    return {**UNLIMITED, "EMAIL_BACKEND": "smtp", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
            "DEFAULT_FROM_EMAIL": f"{FROM_NAME} <{FROM_ADDRESS}>", **extra}


def outbox_rows(server, email: str) -> list[tuple]:
    return server.query("SELECT status, attempts, last_error FROM outbox WHERE recipient = %s", (email,))


def html_part(received) -> str:
    part = received.message.get_body(preferencelist=("html",))
    assert part is not None, received.data[:2000]
    return part.get_content()


def test_the_code_arrives_by_smtp_in_a_text_and_html_mail(make_server, sink):
    server = make_server(env=smtp_env(sink.start()))
    email = flows.new_email("smtp")
    assert flows.signup(server, email, name="Mail Reader").status_code == 201
    received = sink.wait_for(email, timeout=20)
    assert received.rcpt_to == (email,)
    assert received.mail_from == FROM_ADDRESS
    sender = received.message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (FROM_NAME, FROM_ADDRESS)
    assert received.message["To"].addresses[0].addr_spec == email
    assert received.message["Subject"]
    assert received.message.get_content_type() == "multipart/alternative"
    code = sink.latest_code(email)
    assert code and re.fullmatch(r"\d{6}", code)
    assert code in received.text
    # The mail holds no text the signup chose (anyone can sign up with any address).
    assert "Mail Reader" not in received.text
    assert code in html_part(received)
    response = flows.verify(server, email, code)
    assert response.status_code == 200, response.text
    assert flows.login(server, email).status_code == 200
    wait_until(lambda: outbox_rows(server, email) == [("sent", 0, None)], what="outbox row marked sent")


def test_reset_code_arrives_by_smtp_too(make_server, sink):
    server = make_server(env=smtp_env(sink.start()))
    email = flows.new_email("smtp")
    assert flows.signup(server, email).status_code == 201
    sink.wait_for(email, timeout=20)
    assert flows.verify(server, email, sink.latest_code(email)).status_code == 200
    answer = requests.post(server.url("/api/auth/password/forgot"), json={"email": email}, timeout=30)
    assert answer.status_code == 200
    sink.wait_for(email, timeout=20, count=2)
    code = sink.latest_code(email)
    reset = requests.post(server.url("/api/auth/password/reset"),
                          json={"email": email, "otp": code, "new_password": "reset by mail 123"}, timeout=30)
    assert reset.status_code == 200, reset.text
    assert flows.login(server, email, "reset by mail 123").status_code == 200


def test_signup_succeeds_while_smtp_is_down_and_the_mail_follows(make_server, sink):
    port = sink.start()
    sink.stop()  # the mail server is down; its port is known
    server = make_server(env=smtp_env(port, EMAIL_RETRY_BASE="1s"))
    email = flows.new_email("smtp")
    response = flows.signup(server, email)
    assert response.status_code == 201, response.text

    # The sender tried, failed, and keeps the mail queued for a retry.
    def retried():
        rows = outbox_rows(server, email)
        return rows and rows[0][0] == "queued" and rows[0][1] >= 1 and rows[0][2]
    wait_until(retried, timeout=15, what="a failed attempt recorded")
    assert server.metric("outbox_depth") >= 1
    assert sink.messages_for(email) == []

    sink.start(port)  # back up
    sink.wait_for(email, timeout=40)
    code = sink.latest_code(email)
    assert flows.verify(server, email, code).status_code == 200
    wait_until(lambda: outbox_rows(server, email)[0][0] == "sent", what="outbox row marked sent")
    assert len(sink.messages_for(email)) == 1  # delivered once


def test_metrics_count_sent_mail_and_the_outbox_depth(make_server, sink):
    server = make_server(env=smtp_env(sink.start()))
    assert server.metric("emails_sent_total") == 0
    emails = [flows.new_email("smtp") for _ in range(2)]
    for email in emails:
        assert flows.signup(server, email).status_code == 201
    for email in emails:
        sink.wait_for(email, timeout=20)
    wait_until(lambda: server.metric("emails_sent_total") == 2, what="emails_sent_total == 2")
    wait_until(lambda: server.metric("outbox_depth") == 0, what="outbox_depth == 0")
    assert server.metric("emails_failed_total") == 0

