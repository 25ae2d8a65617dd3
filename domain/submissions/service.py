"""Send a page form twice, get one result.

A form that records something (starts a case, adds a family or a person) carries a one-time
token. The first sending records the token with its result, in the same unit of work as the
change; a second sending of the same form (clicked again on a slow day, or resent after a
timeout) finds the token and is shown the first's result instead of recording it again. Two
sendings at the same moment are settled by the token's primary key: the later one's whole
unit of work is rolled back, and it then finds the earlier one's result.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from domain import errors
from domain.context import Context
from domain.db import first_writer_wins
from domain.submissions.models import FormSubmission

KEPT_FOR = timedelta(days=1)
"""A token is forgotten a day after its form was sent."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class AlreadySentError(errors.ConflictError):
    """The form was sent already: its result is at `result_path`."""

    def __init__(self, result_path: str | None) -> None:
        super().__init__("This form was sent already.")
        self.result_path = result_path


def new_token() -> str:
    """A token for a form about to be shown."""
    return secrets.token_urlsafe(24)


def usable(token: str | None) -> str | None:
    """The token a form carried, if it is one this module gave (else None: no guard)."""
    return token if token and _TOKEN.fullmatch(token) else None


def earlier(ctx: Context, token: str | None) -> FormSubmission | None:
    """The first sending of this user's form (or request) with `token`, if any."""
    if token is None or ctx.actor is None:
        return None
    return ctx.session.scalar(
        select(FormSubmission).where(
            FormSubmission.token == token,
            FormSubmission.user_id == ctx.actor.user_id,
            FormSubmission.created_at >= ctx.now() - KEPT_FOR,
        )
    )


def result_of(ctx: Context, token: str | None) -> str | None:
    """Where the first sending of this user's form with `token` shows its result, if any."""
    found = earlier(ctx, token)
    return found.result_path if found is not None else None


def record(
    ctx: Context, token: str | None, result_path: str, fingerprint: str | None = None
) -> None:
    """Record the form as sent, in the caller's unit of work (AlreadySentError if it was)."""
    if token is None or ctx.actor is None:
        return
    now = ctx.now()
    ctx.session.execute(delete(FormSubmission).where(FormSubmission.created_at < now - KEPT_FOR))
    ctx.session.add(
        FormSubmission(
            token=token,
            user_id=ctx.actor.user_id,
            result_path=result_path,
            fingerprint=fingerprint,
            created_at=now,
        )
    )
    with first_writer_wins(AlreadySentError(None)):
        ctx.session.flush()
