"""Record audit events inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from domain.audit.models import AuditEvent
from domain.context import Context
from domain.db import table_of


def record(
    ctx: Context,
    action: str,
    subject: tuple[str, object],
    *,
    instance_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one audit event (ids and codes only in `details`)."""
    event = AuditEvent(**entry(ctx, action, subject, instance_id=instance_id, **details))
    ctx.session.add(event)
    return event


def entry(
    ctx: Context,
    action: str,
    subject: tuple[str, object],
    *,
    instance_id: int | None = None,
    **details: Any,
) -> dict[str, Any]:
    """One audit event as a row, for `write` (ids and codes only in `details`)."""
    return {
        "at": ctx.now(),
        "actor_id": ctx.actor.user_id if ctx.actor else None,
        "actor_agency_id": ctx.actor.agency_id if ctx.actor else None,
        "action": action,
        "subject_type": subject[0],
        "subject_id": str(subject[1]),
        "instance_id": instance_id,
        "details": details,
    }


_INSERT = insert(table_of(AuditEvent))


def write(ctx: Context, entries: Sequence[dict[str, Any]]) -> None:
    """Append audit rows built by `entry` in one batched insert, in the given order."""
    if entries:
        # statement-level insert on the unit of work's connection: one batch, no ORM objects
        ctx.session.connection().execute(_INSERT, list(entries))


def list_for_instance(ctx: Context, instance_id: int) -> Sequence[AuditEvent]:
    """List an instance's audit trail, oldest first."""
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    return ctx.session.scalars(query).all()
