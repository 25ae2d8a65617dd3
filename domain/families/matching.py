"""People already recorded who may be the person about to be added to a household.

A person is recorded once however many households they are in: a child who lives between two
parents, or a father already known to another household, must not become a second record, or
a concern about them would not surface everything known. Before a new person is added, the
people with the same name (accents, capitals, punctuation and word breaks aside) and no
conflicting date of birth are offered, with their households, to be added instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from domain.audit import service as audit
from domain.context import Context
from domain.families import policies
from domain.families.models import Family, FamilyMembership, Person
from domain.families.names import search_key

MATCH_LIMIT = 10
"""At most this many people are offered (the oldest records first)."""


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """Someone already recorded who may be the person being added."""

    person: Person
    households: list[Family]
    """Every household they are in, oldest membership first."""
    in_this_family: bool
    """Already a member of the household being added to (so not offered again)."""


def unbroken(key: Any) -> Any:
    """A stored search key without its word breaks (an SQL expression)."""
    return func.replace(key, " ", "")


def possible_matches(
    ctx: Context,
    *,
    family_id: int,
    given_name: str,
    family_name: str,
    date_of_birth: Any = None,
    shown: bool = True,
) -> list[PossibleMatch]:
    """People with this name and no other date of birth.

    Someone recorded without a date of birth (or before they were born) may be anyone of
    their name, so is offered whatever date is given. The people found are audited as shown
    (ids only) unless `shown` is False: then call `record_shown` if they are shown after all.
    """
    policies.ensure_can_read(ctx)
    compact = search_key(given_name, family_name).replace(" ", "")
    if not compact:
        return []
    query = select(Person).where(unbroken(Person.search_key) == compact)
    if date_of_birth is not None:
        query = query.where(
            or_(Person.date_of_birth.is_(None), Person.date_of_birth == date_of_birth)
        )
    people = ctx.session.scalars(query.order_by(Person.id).limit(MATCH_LIMIT)).all()
    if not people:
        return []
    households: dict[int, list[Family]] = {p.id: [] for p in people}
    rows = ctx.session.execute(
        select(FamilyMembership.person_id, Family)
        .join(Family, Family.id == FamilyMembership.family_id)
        .where(FamilyMembership.person_id.in_(households))
        .order_by(FamilyMembership.id)
    ).all()
    for person_id, family in rows:
        households[person_id].append(family)
    matches = [
        PossibleMatch(
            person=p,
            households=households[p.id],
            in_this_family=any(f.id == family_id for f in households[p.id]),
        )
        for p in people
    ]
    if shown:
        record_shown(ctx, family_id, matches)
    return matches


def record_shown(ctx: Context, family_id: int, matches: Sequence[PossibleMatch]) -> None:
    """Audit that these people were shown as possible matches (ids only)."""
    audit.record(
        ctx,
        "person.possible_matches_shown",
        ("family", family_id),
        person_ids=[m.person.id for m in matches],
    )
