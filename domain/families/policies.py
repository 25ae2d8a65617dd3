"""Who may read and change family records, and who may see special category fields."""

from __future__ import annotations

from domain import errors
from domain.context import Actor, Context
from domain.lanes import ADMIN, PRACTITIONER, PROCESS_OWNER, TEAM_MANAGER

WRITERS = (PRACTITIONER, TEAM_MANAGER)
READERS = (PRACTITIONER, TEAM_MANAGER, PROCESS_OWNER, ADMIN)
SPECIAL_CATEGORY_READERS = (PRACTITIONER, TEAM_MANAGER)


def may_see_special_category(actor: Actor | None) -> bool:
    """Return whether the actor may see ethnicity and disability (special category data)."""
    return actor is None or actor.has_role(*SPECIAL_CATEGORY_READERS)


def ensure_can_read(ctx: Context) -> None:
    """Raise PermissionDeniedError unless the actor may read family records."""
    if ctx.actor is not None and not ctx.actor.has_role(*READERS):
        raise errors.PermissionDeniedError("Your role does not allow reading family records.")


def ensure_can_write(ctx: Context) -> None:
    """Raise PermissionDeniedError unless the actor may change family records."""
    if ctx.actor is not None and not ctx.actor.has_role(*WRITERS):
        raise errors.PermissionDeniedError("Your role does not allow changing family records.")


def ensure_can_see_special_category(ctx: Context) -> None:
    """Raise PermissionDeniedError unless the actor may see ethnicity and disability."""
    if not may_see_special_category(ctx.actor):
        raise errors.PermissionDeniedError("Your role does not allow seeing this information.")
