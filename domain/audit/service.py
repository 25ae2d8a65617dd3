"""Record audit events inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, insert, select

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


def list_for_instance(
    ctx: Context,
    instance_id: int,
    *,
    actions: Collection[str] | None = None,
    start: int = 0,
    limit: int | None = None,
) -> Sequence[AuditEvent]:
    """List an instance's audit trail (of these actions only, if given), oldest first, from
    the `start`th event (0 is the first), at most `limit` of them."""
    query = select(AuditEvent).where(*_of_instance(instance_id, actions))
    query = query.order_by(AuditEvent.id).offset(start or None).limit(limit)
    return ctx.session.scalars(query).all()


def count_for_instance(
    ctx: Context, instance_id: int, *, actions: Collection[str] | None = None
) -> int:
    """Count an instance's audit events (of these actions only, if given)."""
    query = select(func.count()).select_from(AuditEvent)
    return ctx.session.scalar(query.where(*_of_instance(instance_id, actions))) or 0


def _of_instance(instance_id: int, actions: Collection[str] | None) -> list[Any]:
    where = [AuditEvent.instance_id == instance_id]
    if actions is not None:
        where.append(AuditEvent.action.in_(sorted(actions)))
    return where
