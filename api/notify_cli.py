"""The `thinkfamily notify` command: deliver the notification outbox by SMTP or GOV.UK Notify."""

from __future__ import annotations

import logging
import time

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from api.common.context import base_context, services
from api.common.extensions import db
from domain.notifications.senders import NotificationConfigError, Sender, build_sender
from domain.notifications.service import DeliveryResult, deliver_pending

log = logging.getLogger(__name__)


def _deliver_pass(sender: Sender, batch: int) -> DeliveryResult:
    """Run one delivery pass on a fresh session."""
    try:
        return deliver_pending(base_context(None), sender, limit=batch)
    finally:
        db.session.remove()


@click.command("notify")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval", default=5.0, show_default=True, help="Seconds to wait when nothing is due."
)
@click.option("--batch", default=100, show_default=True, help="Notifications per pass.")
@with_appcontext
def notify_command(once: bool, interval: float, batch: int) -> None:
    """Deliver pending notifications, in a loop unless --once is given."""
    try:
        sender = build_sender(services()["settings"])
    except NotificationConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    while True:
        try:
            result = _deliver_pass(sender, batch)
        except NotificationConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            log.error("notification delivery pass failed (%s)", type(exc).__name__)
            if once:
                raise click.ClickException("Delivery failed: database error.") from exc
            time.sleep(interval)
            continue
        if once or result.processed:
            click.echo(f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}")
        if once:
            return
        if result.processed < batch:
            time.sleep(interval)
