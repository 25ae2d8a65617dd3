"""Deliver queued notifications through a real local SMTP server."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask

from domain.notifications.messages import EVENT_WORDING, compose_message
from domain.notifications.senders import SmtpSender
from domain.notifications.service import BACKOFF, MAX_ATTEMPTS
from tests.conftest import PG_URL, FakeClock
from tests.notifications.conftest import (
    BASE_URL,
    PERSONAL_VALUES,
    CollectingHandler,
    SmtpServer,
    free_port,
    start_demo,
)
from tests.notifications.helpers import audit_details, deliver, reference_of, rows

EXPECTED = {
    ("alice@example.org", "task_assigned"),  # username → that user's email
    ("hm1@example.org", "mdt_invitation"),  # agency + role → active users with the role
    ("hm2@example.org", "mdt_invitation"),
    ("school@example.org", "reminder"),  # agency + role, nobody with it → agency address
    ("school@example.org", "escalation_stage"),  # agency alone → agency address
}


def _event_of(subject: str) -> str:
    return next(event for event, (headline, _) in EVENT_WORDING.items() if headline in subject)


def test_recipients_follow_the_resolution_rules(
    app: Flask, demo: int, smtp_server: SmtpServer
) -> None:
    result = deliver(app)

    assert (result.sent, result.retrying, result.failed) == (5, 0, 0)
    assert all(len(m.rcpt_tos) == 1 for m in smtp_server.messages)
    received = {(m.rcpt_tos[0], _event_of(m.subject)) for m in smtp_server.messages}
    assert received == EXPECTED
    assert len(smtp_server.messages) == len(EXPECTED)
    assert {m.mail_from for m in smtp_server.messages} == {"no-reply@thinkfamily.example.org"}
    assert all(r.status == "sent" and r.attempts == 1 for r in rows(app))
    assert sorted(r.recipient or "" for r in rows(app)) == sorted(a for a, _ in EXPECTED)


def test_messages_carry_only_the_reference_and_sign_in_link(
    app: Flask, people: None, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    instance_id = start_demo(app)
    reference = reference_of(app, instance_id)

    deliver(app)

    link = f"{BASE_URL}/instances/{instance_id}"
    assert len(smtp_server.messages) == 5
    for message in smtp_server.messages:
        assert reference in message.subject
        assert reference in message.body
        assert link in message.body
        headers = "\n".join(f"{k}: {v}" for k, v in message.email.items())
        for text in (headers, message.body, message.raw.decode()):
            for value in (*PERSONAL_VALUES, "Alice", "Hm1", "Hm2"):
                assert value not in text
    app_logs = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )
    assert "sent via smtp" in app_logs
    for value in PERSONAL_VALUES:
        assert value not in app_logs
    assert "@example.org" not in app_logs


def test_smtp_failure_is_retried_with_backoff_and_sent_once(
    app: Flask, people: None, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    start_demo(app)
    smtp_server.stop()

    first = deliver(app)

    assert (first.sent, first.retrying) == (0, 5)
    assert all(r.attempts == 1 and r.status == "pending" for r in rows(app))
    assert all(r.next_attempt_at == clock.now + BACKOFF[0] for r in rows(app))
    assert deliver(app).processed == 0  # nothing is due before the backoff ends

    smtp_server.start()
    clock.advance(seconds=59)
    assert deliver(app).processed == 0
    clock.advance(seconds=1)
    second = deliver(app)

    assert (second.sent, second.retrying) == (5, 0)
    assert len(smtp_server.messages) == 5
    assert all(r.status == "sent" and r.attempts == 2 for r in rows(app))
    assert all(r.sent_at == clock.now and r.next_attempt_at is None for r in rows(app))
    clock.advance(days=1)
    assert deliver(app).processed == 0
    assert len(smtp_server.messages) == 5
    assert len(audit_details(app, "notification.sent")) == 5


def test_notification_fails_after_six_attempts(
    app: Flask, people: None, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    instance_id = start_demo(app)
    smtp_server.stop()

    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = deliver(app)
        if attempt < MAX_ATTEMPTS:
            assert result.retrying == 5
            assert all(r.next_attempt_at == clock.now + BACKOFF[attempt - 1] for r in rows(app))
        clock.advance(hours=7)

    assert result.failed == 5
    assert all(r.status == "failed" and r.attempts == MAX_ATTEMPTS for r in rows(app))
    assert all(r.next_attempt_at is None for r in rows(app))
    failures = audit_details(app, "notification.failed")
    assert len(failures) == 5
    assert all(i == instance_id and d["reason"] == "ConnectionRefusedError" for i, d in failures)
    smtp_server.start()
    assert deliver(app).processed == 0
    assert smtp_server.messages == []


def test_row_without_any_address_is_retried(
    app: Flask, people: None, smtp_server: SmtpServer
) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes.models import ProcessInstance
    from domain.processes.outbox import queue_notification

    instance_id = start_demo(app)
    deliver(app)
    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            instance = ctx.session.get(ProcessInstance, instance_id)
            assert instance is not None
            queue_notification(ctx, instance, {"event": "feedback", "user": "nobody"}, "x")

    result = deliver(app)

    assert (result.sent, result.retrying) == (0, 1)
    assert rows(app)[-1].recipient is None
    assert len(smtp_server.messages) == 5


def test_cli_notify_once_delivers_the_outbox(
    app: Flask, demo: int, smtp_server: SmtpServer
) -> None:
    outcome = app.test_cli_runner().invoke(args=["notify", "--once"])

    assert outcome.exit_code == 0, outcome.output
    assert "sent 5, retrying 0, failed 0" in outcome.output
    assert len(smtp_server.messages) == 5


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("NOTIFY_BACKEND", "fax", "NOTIFY_BACKEND must be 'smtp' or 'notify'"),
        ("BASE_URL", "", "BASE_URL must be an http(s) address"),
    ],
)
def test_cli_notify_refuses_bad_settings(
    app: Flask, demo: int, smtp_server: SmtpServer, key: str, value: str, error: str
) -> None:
    app.extensions["thinkfamily"]["settings"][key] = value

    outcome = app.test_cli_runner().invoke(args=["notify", "--once"])

    assert outcome.exit_code == 1
    assert error in outcome.output
    assert all(r.status == "pending" and r.attempts == 0 for r in rows(app))
    assert smtp_server.messages == []


# aiosmtpd warns that AUTH without TLS is unsafe; this loopback server only checks the login.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_sender_logs_in_when_configured() -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(*args: Any) -> AuthResult:
        credentials = args[-1]
        assert isinstance(credentials, LoginPassword)
        logins.append((credentials.login, credentials.password))
        return AuthResult(success=credentials.password == b"s3cret-password")

    handler = CollectingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # plain-text login only on this loopback test server
    )
    controller.start()
    try:
        sender = SmtpSender(
            host="127.0.0.1",
            port=port,
            from_address="alerts@thinkfamily.example.org",
            username="mailer",
            password="s3cret-password",
        )
        message = compose_message(
            "outcome", reference="ESC-000007", link="/instances/7", base_url=BASE_URL
        )
        message_id = sender.send(message, "lead@example.org")
    finally:
        controller.stop()

    assert logins == [(b"mailer", b"s3cret-password")]
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received.email["Message-ID"] == message_id
    assert received.subject == "ThinkFamily: An outcome has been recorded (ESC-000007)"
    assert received.rcpt_tos == ["lead@example.org"]


def test_backoff_schedule_is_increasing() -> None:
    assert len(BACKOFF) == MAX_ATTEMPTS - 1
    assert all(a < b for a, b in itertools.pairwise(BACKOFF))
    assert BACKOFF[0] == timedelta(minutes=1)


@pytest.mark.skipif(not PG_URL, reason="SKIP LOCKED needs PostgreSQL; SQLite ignores FOR UPDATE")
def test_row_locked_by_another_worker_is_skipped(
    app: Flask, demo: int, smtp_server: SmtpServer
) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from api.common.extensions import db
    from domain.processes.models import Notification

    with app.app_context(), Session(db.engine) as other_worker:
        held = other_worker.scalars(
            select(Notification).order_by(Notification.id).limit(1).with_for_update()
        ).one()
        assert deliver(app).sent == 4
        assert {r.id: r.status for r in rows(app)}[held.id] == "pending"
        other_worker.rollback()

    assert deliver(app).sent == 1
    assert len(smtp_server.messages) == 5
