"""Deliver the notification outbox: one row per unit of work, with retry and backoff."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import or_, select

from domain.audit import service as audit
from domain.context import Context
from domain.db import unit_of_work
from domain.notifications.messages import UnsafeMessageError, compose_message, is_safe_base_url
from domain.notifications.recipients import resolve_recipients
from domain.notifications.senders import NotificationConfigError, Sender
from domain.processes.models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
"""Wait after the 1st..5th failed attempt; the 6th failure marks the row `failed`."""

Outcome = Literal["sent", "retrying", "failed"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def processed(self) -> int:
        """The number of rows claimed in the pass."""
        return self.sent + self.retrying + self.failed


def deliver_pending(ctx: Context, sender: Sender, *, limit: int = 100) -> DeliveryResult:
    """Send up to `limit` due notifications, committing once per notification.

    Each row is claimed with `FOR UPDATE SKIP LOCKED`, sent, and marked sent (or scheduled for
    a retry) in its own unit of work, so several workers can share the outbox and a send is
    never recorded twice. A row addressed to several people is split into one row per
    recipient first. Call it outside any open unit of work: it commits `ctx.session`.

    Raises:
        NotificationConfigError: `ctx.settings["BASE_URL"]` is not an http(s) address
            (checked before any row is claimed).
    """
    base_url = str(ctx.settings.get("BASE_URL") or "")
    if not is_safe_base_url(base_url):
        raise NotificationConfigError("BASE_URL must be an http(s) address.")
    counts: dict[Outcome, int] = {"sent": 0, "retrying": 0, "failed": 0}
    for _ in range(limit):
        with unit_of_work(ctx.session):
            note = _claim_next(ctx)
            if note is None:
                break
            counts[_deliver_one(ctx, note, sender, base_url)] += 1
    return DeliveryResult(**counts)


def _claim_next(ctx: Context) -> Notification | None:
    now = ctx.now()
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        )
        .order_by(Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return ctx.session.scalar(query)


def _deliver_one(ctx: Context, note: Notification, sender: Sender, base_url: str) -> Outcome:
    try:
        message = compose_message(
            note.event, reference=note.reference, link=note.link, base_url=base_url
        )
    except UnsafeMessageError as exc:
        log.error("notification %s on instance %s: unsafe %s", note.id, note.instance_id, exc)
        return _give_up(ctx, note, "unsafe-content")
    recipient = _recipient_of(ctx, note)
    if recipient is None:
        log.warning("notification %s on instance %s has no recipient", note.id, note.instance_id)
        return _retry(ctx, note, "no-recipient")
    try:
        provider_id = sender.send(message, recipient)
    except Exception as exc:  # any provider failure is retried; only its class is logged
        log.warning(
            "notification %s on instance %s: attempt %s via %s failed (%s)",
            note.id,
            note.instance_id,
            note.attempts + 1,
            sender.name,
            type(exc).__name__,
        )
        return _retry(ctx, note, type(exc).__name__)
    _mark_sent(ctx, note, sender.name, provider_id)
    return "sent"


def _recipient_of(ctx: Context, note: Notification) -> str | None:
    """Return the row's one recipient, splitting off a row for each further recipient."""
    if note.recipient:
        return note.recipient
    addresses = resolve_recipients(
        ctx, username=note.username, agency_code=note.agency_code, role=note.role
    )
    if not addresses:
        return None
    note.recipient = addresses[0]
    for address in addresses[1:]:
        ctx.session.add(
            Notification(
                event=note.event,
                instance_id=note.instance_id,
                reference=note.reference,
                agency_code=note.agency_code,
                role=note.role,
                username=note.username,
                recipient=address,
                link=note.link,
                status="pending",
                attempts=0,
                created_at=ctx.now(),
                next_attempt_at=ctx.now(),
            )
        )
    if len(addresses) > 1:
        log.info("notification %s split for %s recipients", note.id, len(addresses))
    return note.recipient


def _mark_sent(ctx: Context, note: Notification, backend: str, provider_id: str | None) -> None:
    note.status = "sent"
    note.attempts += 1
    note.sent_at = ctx.now()
    note.next_attempt_at = None
    note.provider_id = provider_id[:100] if provider_id else None
    audit.record(
        ctx,
        "notification.sent",
        ("notification", note.id),
        instance_id=note.instance_id,
        event=note.event,
        backend=backend,
        provider_id=note.provider_id,
    )
    log.info(
        "notification %s (%s) on instance %s sent via %s, provider id %s",
        note.id,
        note.event,
        note.instance_id,
        backend,
        note.provider_id,
    )


def _retry(ctx: Context, note: Notification, reason: str) -> Outcome:
    note.attempts += 1
    if note.attempts >= MAX_ATTEMPTS:
        return _give_up(ctx, note, reason, counted=True)
    note.next_attempt_at = ctx.now() + BACKOFF[min(note.attempts, len(BACKOFF)) - 1]
    return "retrying"


def _give_up(ctx: Context, note: Notification, reason: str, *, counted: bool = False) -> Outcome:
    if not counted:
        note.attempts += 1
    note.status = "failed"
    note.next_attempt_at = None
    audit.record(
        ctx,
        "notification.failed",
        ("notification", note.id),
        instance_id=note.instance_id,
        event=note.event,
        attempts=note.attempts,
        reason=reason,
    )
    log.error(
        "notification %s on instance %s failed after %s attempts (%s)",
        note.id,
        note.instance_id,
        note.attempts,
        reason,
    )
    return "failed"
