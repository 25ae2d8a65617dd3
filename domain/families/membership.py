"""Who lives in a household now: a member who has left stays on the record, with the day.

Households change: a partner moves out, a child goes to live with a grandparent. The
membership keeps the day they left and, optionally, why; they stay a member of the record,
because someone who has left can still matter to the children's safety.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from domain import errors
from domain.audit import service as audit
from domain.context import Context
from domain.families import policies
from domain.families.ages import local_today
from domain.families.models import Family, FamilyMembership
from domain.families.service import get_family, invalid

LEFT_REASON_MAX = 200


def record_left(
    ctx: Context, *, family_id: int, person_id: int, left_on: date, reason: str | None = None
) -> FamilyMembership:
    """Record that a member left the household on `left_on` (they stay on the record).

    Refused (409) if their leaving is already recorded: of two practitioners recording it at
    once, one is told so rather than one overwriting the other's date and reason.
    """
    policies.ensure_can_write(ctx)
    family, membership = _household_member(ctx, family_id, person_id)
    if left_on > local_today(ctx):
        raise invalid("#/left_on", "Enter the day they left: today or earlier.")
    born = membership.person.date_of_birth
    if born is not None and left_on < born:
        raise invalid("#/left_on", "Enter a day on or after their date of birth.")
    reason = " ".join((reason or "").split()) or None
    if reason is not None and len(reason) > LEFT_REASON_MAX:
        raise invalid("#/reason", f"Keep the reason to {LEFT_REASON_MAX} characters or fewer.")
    return _change_membership(
        ctx,
        family,
        membership,
        FamilyMembership.left_on.is_(None),
        {"left_on": left_on, "left_reason": reason},
        "That person's leaving the household is already recorded.",
        "family.member_left",
    )


def record_returned(ctx: Context, *, family_id: int, person_id: int) -> FamilyMembership:
    """Record that a member who had left lives in the household again."""
    policies.ensure_can_write(ctx)
    family, membership = _household_member(ctx, family_id, person_id)
    return _change_membership(
        ctx,
        family,
        membership,
        FamilyMembership.left_on.is_not(None),
        {"left_on": None, "left_reason": None},
        "That person is recorded as living in the household.",
        "family.member_returned",
    )


def _household_member(
    ctx: Context, family_id: int, person_id: int
) -> tuple[Family, FamilyMembership]:
    family = get_family(ctx, family_id)
    membership = ctx.session.scalar(
        select(FamilyMembership).where(
            FamilyMembership.family_id == family.id, FamilyMembership.person_id == person_id
        )
    )
    if membership is None:
        raise errors.NotFoundError("That person is not a member of this household.")
    return family, membership


def _change_membership(
    ctx: Context,
    family: Family,
    membership: FamilyMembership,
    unless: Any,
    values: dict[str, Any],
    conflict: str,
    action: str,
) -> FamilyMembership:
    """One conditional UPDATE, so that of two people recording the same change one goes on."""
    claimed = ctx.session.execute(
        update(FamilyMembership)
        .where(FamilyMembership.id == membership.id, unless)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        raise errors.ConflictError(conflict)
    ctx.session.refresh(membership)
    family.updated_at = ctx.now()
    audit.record(ctx, action, ("family", family.id), person_id=membership.person_id)
    return membership


def departures(ctx: Context, family_id: int) -> dict[int, FamilyMembership]:
    """The memberships of people who have left the household, by person id."""
    rows = ctx.session.scalars(
        select(FamilyMembership).where(
            FamilyMembership.family_id == family_id, FamilyMembership.left_on.is_not(None)
        )
    )
    return {row.person_id: row for row in rows}
