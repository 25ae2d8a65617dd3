"""Find and claim instances whose earliest timer is due.

A claim is a row lock on the instance, taken in the same transaction that fires its timers
and commits the result: `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
workers never pick the same instance and a worker that dies before committing leaves it
due for the next one. Committing releases the lock, which is why a claim covers exactly one
instance per unit of work.

SQLAlchemy silently drops `FOR UPDATE SKIP LOCKED` on SQLite: run a single worker there.
(The instance's version column still turns a double firing into a rolled-back stale write,
but two SQLite workers would mostly wait on each other.)

Due means strictly earlier than now, as SpiffWorkflow decides (`due < now`), so a claimed
instance always has something to fire.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.processes.models import ProcessInstance

ACTIVE = "active"


def supports_skip_locked(session: Session) -> bool:
    """Return whether the database lets several workers share the queue (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def claim_due(
    session: Session, now: datetime, *, limit: int = 1, exclude: Collection[int] = ()
) -> list[int]:
    """Lock up to `limit` due instances, soonest first, skipping rows other workers hold.

    The locks last until the caller's transaction ends.
    """
    query = (
        select(ProcessInstance.id)
        .where(ProcessInstance.status == ACTIVE, ProcessInstance.next_timer_due_at < now)
        # Order by the indexed column alone: a tie-breaker would sort every due row first.
        .order_by(ProcessInstance.next_timer_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude:
        query = query.where(ProcessInstance.id.not_in(list(exclude)))
    return list(session.scalars(query))


def still_due(instance: ProcessInstance, now: datetime) -> bool:
    """Whether a claimed instance, as now read, still has a timer due (it may have moved on
    between the claim and the read where the claim took no lock)."""
    due = instance.next_timer_due_at
    return instance.status == ACTIVE and due is not None and due < now


def lock_if_still_due(session: Session, instance_id: int, due_at: datetime) -> bool:
    """Lock one instance if its earliest timer is still `due_at` (nobody handled it since)."""
    query = (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.id == instance_id,
            ProcessInstance.status == ACTIVE,
            ProcessInstance.next_timer_due_at == due_at,
        )
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query) is not None


def next_due_at(session: Session) -> datetime | None:
    """Return the earliest due instant over active instances (one index lookup)."""
    query = (
        select(ProcessInstance.next_timer_due_at)
        .where(ProcessInstance.status == ACTIVE, ProcessInstance.next_timer_due_at.is_not(None))
        .order_by(ProcessInstance.next_timer_due_at)
        .limit(1)
    )
    return session.scalar(query)


def count_due(session: Session, now: datetime) -> int:
    """Count active instances with a due timer (for status and tests)."""
    query = select(func.count(ProcessInstance.id)).where(
        ProcessInstance.status == ACTIVE, ProcessInstance.next_timer_due_at < now
    )
    return int(session.scalar(query) or 0)
