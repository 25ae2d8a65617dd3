"""Helpers shared by the notification tests: deliver, read rows, read the instance reference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from api.common.context import base_context, services
from domain.audit.models import AuditEvent
from domain.notifications.senders import build_sender
from domain.notifications.service import DeliveryResult, deliver_pending
from domain.processes.models import Notification, ProcessInstance


@dataclass(frozen=True)
class Row:
    """A detached copy of a notifications row."""

    id: int
    event: str
    status: str
    attempts: int
    recipient: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    provider_id: str | None


def deliver(app: Flask, limit: int = 50) -> DeliveryResult:
    """Run one delivery pass with the sender the app's settings choose."""
    with app.app_context():
        sender = build_sender(services()["settings"])
        return deliver_pending(base_context(None), sender, limit=limit)


def rows(app: Flask) -> list[Row]:
    """Return every notifications row, oldest first."""
    with app.app_context():
        session = base_context(None).session
        return [
            Row(
                n.id,
                n.event,
                n.status,
                n.attempts,
                n.recipient,
                n.next_attempt_at,
                n.sent_at,
                n.provider_id,
            )
            for n in session.scalars(select(Notification).order_by(Notification.id))
        ]


def reference_of(app: Flask, instance_id: int) -> str:
    """Return the instance's case reference."""
    with app.app_context():
        instance = base_context(None).session.get(ProcessInstance, instance_id)
        assert instance is not None
        assert instance.reference
        return instance.reference


def audit_details(app: Flask, action: str) -> list[tuple[int | None, dict[str, object]]]:
    """Return (instance id, details) of every audit event with this action."""
    with app.app_context():
        events = base_context(None).session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [(e.instance_id, dict(e.details)) for e in events]
