"""Fixtures for notification delivery: a real local SMTP server and a deployed demo process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.conftest import make_user
from tests.notifications.fakes import FakeNotify

BPMN_DIR = Path(__file__).parent / "bpmn"
BASE_URL = "https://thinkfamily.example.org"
CHILD_NAME = "Zephyrine Quillfeather-Oyelaran"
CHILD_DOB = "2019-03-14"
CHILD_ADDRESS = "17 Wrekin Rise, Shrewsbury"
CASE_DETAIL = "bruising noticed on left forearm"
PERSONAL_VALUES = (CHILD_NAME, "Zephyrine", "Quillfeather", CHILD_DOB, CHILD_ADDRESS, CASE_DETAIL)


@dataclass
class Received:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def email(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)

    @property
    def subject(self) -> str:
        return str(self.email["Subject"])

    @property
    def body(self) -> str:
        part = self.email.get_body(preferencelist=("plain",))
        assert part is not None
        return cast(str, part.get_content())


@dataclass
class CollectingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], envelope.content)
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that tests can stop and start again on the same port."""

    def __init__(self) -> None:
        self.handler = CollectingHandler()
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fake_notify(monkeypatch: pytest.MonkeyPatch) -> FakeNotify:
    """Replace NotificationsAPIClient with a recording fake."""
    fake = FakeNotify()
    monkeypatch.setattr("domain.notifications.senders.NotificationsAPIClient", fake.client_class())
    return fake


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: dict[str, Any], smtp_server: SmtpServer) -> dict[str, Any]:
    return {
        **settings,
        "BASE_URL": BASE_URL + "/",
        "NOTIFY_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_FROM": "no-reply@thinkfamily.example.org",
    }


@pytest.fixture
def people(app: Flask) -> None:
    """Users and agencies for every resolution rule in notify_demo.bpmn."""
    make_user(app, "pat", ["practitioner"], agency="csc")
    make_user(app, "alice", ["practitioner"], agency="police", kind="police")
    make_user(app, "hm1", ["team_manager"], agency="health", kind="health")
    make_user(app, "hm2", ["practitioner", "team_manager"], agency="health", kind="health")
    make_user(app, "hp", ["practitioner"], agency="health", kind="health")
    make_user(app, "hm3", ["team_manager"], agency="health", kind="health")
    make_user(app, "teacher", ["practitioner"], agency="school", kind="education")
    _deactivate(app, "hm3")


def _deactivate(app: Flask, username: str) -> None:
    from sqlalchemy import select

    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.users.models import User

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            user = ctx.session.scalars(select(User).where(User.username == username)).one()
            user.active = False


def start_demo(app: Flask, starter: str = "pat") -> int:
    """Deploy notify_demo.bpmn and start it as a practitioner with identifying start data."""
    from sqlalchemy import select

    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions, runtime
    from domain.users.models import User
    from domain.users.service import actor_of

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            definitions.deploy(
                ctx,
                key="notify_demo",
                bpmn_files={"notify_demo.bpmn": (BPMN_DIR / "notify_demo.bpmn").read_bytes()},
                forms={},
            )
        user = ctx.session.scalars(select(User).where(User.username == starter)).one()
        ctx = base_context(actor_of(user))
        with unit_of_work(ctx.session):
            instance = runtime.start_process(
                ctx,
                process_key="notify_demo",
                data={
                    "child_name": CHILD_NAME,
                    "child_dob": CHILD_DOB,
                    "child_address": CHILD_ADDRESS,
                    "concern": CASE_DETAIL,
                },
            )
            return instance.id


@pytest.fixture
def demo(app: Flask, people: None) -> int:
    """Start the demo process; return the instance id (four notifications are queued)."""
    return start_demo(app)
