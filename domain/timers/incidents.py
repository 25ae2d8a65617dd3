"""Failed timer firings: retries with exponential backoff, incidents, and manual retry.

A firing that raises is rolled back whole. Then, in a new unit of work, the instance's due
timer rows count one more attempt and the instance's `next_timer_due_at` moves to the retry
time. After `max_attempts` the rows become `incident` and `next_timer_due_at` is cleared:
the instance stays active (its tasks can still be worked), only its timers wait for a
process owner. Errors are recorded by type and element id, never by message or data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from domain import errors
from domain.audit import service as audit
from domain.context import Context
from domain.processes.models import ProcessInstance, TimerRow
from domain.timers import claims
from engine import ScriptError

log = logging.getLogger(__name__)

WAITING = "waiting"
INCIDENT = "incident"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how soon a failing timer is tried again."""

    max_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after the `attempts`-th failure: base x 2^(attempts-1), capped."""
        exponent = min(max(attempts - 1, 0), 30)
        return min(self.base_delay * (1 << exponent), self.max_delay)


def error_label(exc: BaseException) -> str:
    """Describe an error by type and element id only (safe for logs and the incident list)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ScriptError):
            where = f" at {current.element_id}" if current.element_id else ""
            return f"ScriptError: {current.error_type}{where}"[:300]
        seen.add(id(current))
        current = current.__cause__
    return type(exc).__name__[:300]


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    """What recording a failure did."""

    attempts: int
    incident: bool
    retry_at: datetime | None


def record_failure(
    ctx: Context,
    *,
    instance_id: int,
    due_at: datetime | None,
    error: BaseException,
    policy: RetryPolicy,
) -> FailureOutcome | None:
    """Count a failed firing against the instance's due timers (caller commits).

    Returns None when the instance was handled meanwhile (it is no longer due at `due_at`,
    or another worker holds it), so nothing is recorded twice.
    """
    if due_at is None or not claims.lock_if_still_due(ctx.session, instance_id, due_at):
        return None
    now = ctx.now()
    rows = list(
        ctx.session.scalars(
            select(TimerRow).where(TimerRow.instance_id == instance_id, TimerRow.status == WAITING)
        )
    )
    due_rows = [r for r in rows if r.due_at < now] or [r for r in rows if r.due_at <= due_at]
    if not due_rows:
        return None
    attempts = max(r.attempts or 0 for r in due_rows) + 1
    label = error_label(error)
    incident = attempts >= policy.max_attempts
    retry_at = None if incident else now + policy.delay(attempts)
    for row in due_rows:
        row.attempts = attempts
        row.last_error = label
        row.retry_at = retry_at
        if incident:
            row.status = INCIDENT
    instance = ctx.session.get(ProcessInstance, instance_id)
    if instance is None:  # pragma: no cover - locked above
        return None
    instance.next_timer_due_at = retry_at
    action = "timers.incident" if incident else "timers.failed"
    audit.record(
        ctx,
        action,
        ("process_instance", instance_id),
        instance_id=instance_id,
        attempts=attempts,
        error=label,
        elements=sorted({r.element_id for r in due_rows}),
    )
    ctx.session.flush()
    if incident:
        log.error(
            "timer incident on instance %s after %s attempts (%s)", instance_id, attempts, label
        )
    else:
        log.warning(
            "timer firing failed on instance %s, attempt %s (%s); retry at %s",
            instance_id,
            attempts,
            label,
            retry_at.isoformat() if retry_at else None,
        )
    return FailureOutcome(attempts=attempts, incident=incident, retry_at=retry_at)


@dataclass(frozen=True, slots=True)
class Incident:
    """A timer that stopped after repeated failures (ids and codes only)."""

    timer_id: int
    instance_id: int
    reference: str | None
    process_key: str
    element_id: str
    title: str
    due_at: datetime
    attempts: int
    last_error: str | None


def list_incidents(ctx: Context, *, limit: int = 100, offset: int = 0) -> Sequence[Incident]:
    """List timers in incident, oldest due first."""
    query = (
        select(TimerRow, ProcessInstance.reference, ProcessInstance.process_key)
        .join(ProcessInstance, ProcessInstance.id == TimerRow.instance_id)
        .where(TimerRow.status == INCIDENT)
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        Incident(
            timer_id=row.id,
            instance_id=row.instance_id,
            reference=reference,
            process_key=process_key,
            element_id=row.element_id,
            title=row.title,
            due_at=row.due_at,
            attempts=row.attempts,
            last_error=row.last_error,
        )
        for row, reference, process_key in ctx.session.execute(query).all()
    ]


def retry(ctx: Context, *, timer_id: int) -> TimerRow:
    """Make an incident due again now, with a fresh count of attempts (caller commits).

    Every timer of the instance in incident is reset: they fire together.
    """
    row = ctx.session.get(TimerRow, timer_id)
    if row is None:
        raise errors.NotFoundError("No timer with that id.")
    if row.status != INCIDENT:
        raise errors.InvalidTransitionError("Only a timer in incident can be retried.")
    instance = ctx.session.get(ProcessInstance, row.instance_id)
    if instance is None or instance.status != claims.ACTIVE:
        raise errors.InvalidTransitionError("The timer's process is no longer active.")
    rows = list(
        ctx.session.scalars(
            select(TimerRow).where(TimerRow.instance_id == instance.id, TimerRow.status == INCIDENT)
        )
    )
    for each in rows:
        each.status = WAITING
        each.attempts = 0
        each.retry_at = None
        each.last_error = None
    # The original due instant is in the past, so the instance is due at once.
    instance.next_timer_due_at = min(r.due_at for r in rows)
    audit.record(
        ctx,
        "timers.retried",
        ("process_instance", instance.id),
        instance_id=instance.id,
        timer_ids=sorted(r.id for r in rows),
    )
    ctx.session.flush()
    log.info("timer incident on instance %s reset for retry", instance.id)
    return row
