"""Families and people: create, find, add members with relationships, update. Never commits."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, and_, delete, exists, func, or_, select, update

from domain import errors
from domain.audit import service as audit
from domain.context import Context
from domain.db import first_writer_wins
from domain.families import codes, policies
from domain.families.ages import local_today
from domain.families.matching import unbroken
from domain.families.models import (
    DisabilityRecord,
    EthnicityRecord,
    Family,
    FamilyMembership,
    Person,
    PersonRelationship,
)
from domain.families.names import search_key, search_words

REFERENCE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")
GENERATED_PREFIX = "FAM-"
PERSON_FIELDS = frozenset(
    {"given_name", "family_name", "sex", "date_of_birth", "expected_date_of_birth", "is_child"}
)
_EDD_WINDOW = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """What is recorded about a new person (ethnicity and disability are recorded separately)."""

    given_name: str
    family_name: str
    sex: str
    date_of_birth: date | None = None
    expected_date_of_birth: date | None = None
    is_child: bool | None = None
    """Needed only when neither date is known."""


@dataclass(frozen=True, slots=True)
class RelationshipInput:
    """The new member is `relationship` of `person_id` (an existing member), e.g. parent of."""

    person_id: int
    relationship: str
    parental_responsibility: bool = False


def invalid(pointer: str, detail: str) -> errors.ValidationFailedError:
    """Build a 422 error naming one field (never its value)."""
    return errors.ValidationFailedError(
        "The request is not valid.", [{"pointer": pointer, "detail": detail}]
    )


def create_family(ctx: Context, *, name: str | None = None, reference: str | None = None) -> Family:
    """Open a household record; the reference is generated (FAM-000123) unless given."""
    policies.ensure_can_write(ctx)
    if reference is not None:
        if not REFERENCE_PATTERN.fullmatch(reference):
            raise invalid("#/reference", "Use 3 to 20 capital letters, digits or hyphens.")
        if reference.startswith(GENERATED_PREFIX):  # would clash with a later family's own
            raise invalid("#/reference", f"References starting {GENERATED_PREFIX} are generated.")
        if find_family_by_reference(ctx, reference) is not None:
            raise errors.ConflictError("A family with that reference exists.")
    taken = errors.ConflictError("A family with that reference exists.")
    now = ctx.now()
    family = Family(
        reference=reference,
        name=name,
        created_at=now,
        updated_at=now,
        created_by=ctx.actor.user_id if ctx.actor else None,
    )
    ctx.session.add(family)
    with first_writer_wins(taken):
        ctx.session.flush()
    if family.reference is None:
        family.reference = f"{GENERATED_PREFIX}{family.id:06d}"
    family.search_key = search_key(family.reference, family.name)
    audit.record(ctx, "family.created", ("family", family.id))
    return family


def find_family_by_reference(ctx: Context, reference: str) -> Family | None:
    """Return the family with this reference, or None."""
    return ctx.session.scalar(select(Family).where(Family.reference == reference))


def get_family(ctx: Context, family_id: int) -> Family:
    """Return a family or raise NotFoundError."""
    policies.ensure_can_read(ctx)
    family = ctx.session.get(Family, family_id)
    if family is None:
        raise errors.NotFoundError("No family with that id.")
    return family


def list_families(
    ctx: Context, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> Sequence[Family]:
    """List families, newest first, optionally matching a reference or a member's name."""
    policies.ensure_can_read(ctx)
    query = select(Family)
    if search is not None and search.strip():
        # every word typed must be in the household's reference or name, or in one member's
        # name, where word breaks are ignored ("obriain" finds Ó Briain, "o briain" O'Briain);
        # words are letters and digits only, so none is a LIKE wildcard
        words = search_words(search)
        if not words:
            return []
        member_match = exists(
            select(FamilyMembership.id)
            .join(Person, Person.id == FamilyMembership.person_id)
            .where(
                FamilyMembership.family_id == Family.id,
                *(unbroken(Person.search_key).contains(word) for word in words),
            )
        )
        query = query.where(
            or_(and_(*(unbroken(Family.search_key).contains(w) for w in words)), member_match)
        )
    query = query.order_by(Family.id.desc()).limit(limit).offset(offset)
    return ctx.session.scalars(query).all()


Record = TypeVar("Record", EthnicityRecord, DisabilityRecord)


def latest_per_person(
    ctx: Context, model: type[Record], person_ids: Sequence[int]
) -> dict[int, Record]:
    """Each person's newest record of a kind kept as history (the current one), in one query."""
    if not person_ids:
        return {}
    latest = (
        select(func.max(model.id)).where(model.person_id.in_(person_ids)).group_by(model.person_id)
    )
    rows = ctx.session.scalars(select(model).where(model.id.in_(latest)))
    return {row.person_id: row for row in rows}


def members_of(ctx: Context, family_id: int) -> list[Person]:
    """Return the people in a household, in the order they were added."""
    query = (
        select(Person)
        .join(FamilyMembership, FamilyMembership.person_id == Person.id)
        .where(FamilyMembership.family_id == family_id)
        .order_by(FamilyMembership.id)
    )
    return list(ctx.session.scalars(query))


def get_person(ctx: Context, person_id: int) -> Person:
    """Return a person or raise NotFoundError."""
    policies.ensure_can_read(ctx)
    person = ctx.session.get(Person, person_id)
    if person is None:
        raise errors.NotFoundError("No person with that id.")
    return person


def add_member(
    ctx: Context,
    *,
    family_id: int,
    person: PersonDetails | None = None,
    person_id: int | None = None,
    relationships: Sequence[RelationshipInput] = (),
) -> Person:
    """Add a new person (`person`) or an existing one (`person_id`) to a household."""
    policies.ensure_can_write(ctx)
    family = get_family(ctx, family_id)
    if (person is None) == (person_id is None):
        raise invalid("#/person", "Give either a new person or the id of an existing person.")
    members = {m.id for m in members_of(ctx, family.id)}
    for index, rel in enumerate(relationships):
        if rel.person_id not in members:
            raise invalid(f"#/relationships/{index}/person_id", "Not a member of this family.")
    already = errors.ConflictError("That person is already a member of this family.")
    if person is not None:
        member = _create_person(ctx, person)
    else:
        member = get_person(ctx, int(person_id or 0))
        if member.id in members:
            raise already
    ctx.session.add(
        FamilyMembership(
            family_id=family.id,
            person_id=member.id,
            created_at=ctx.now(),
            created_by=ctx.actor.user_id if ctx.actor else None,
        )
    )
    with first_writer_wins(already):
        ctx.session.flush()
    family.updated_at = ctx.now()
    audit.record(ctx, "family.member_added", ("family", family.id), person_id=member.id)
    for index, rel in enumerate(relationships):
        _relate(ctx, member.id, rel, f"#/relationships/{index}")
    ctx.session.flush()
    return member


def add_relationship(
    ctx: Context,
    *,
    person_id: int,
    related_person_id: int,
    relationship: str,
    parental_responsibility: bool = False,
) -> PersonRelationship:
    """Record that `person_id` is `relationship` of `related_person_id` (e.g. step_parent of)."""
    policies.ensure_can_write(ctx)
    get_person(ctx, person_id)
    get_person(ctx, related_person_id)
    rel = RelationshipInput(related_person_id, relationship, parental_responsibility)
    return _relate(ctx, person_id, rel, "#")


def _relate(ctx: Context, person_id: int, rel: RelationshipInput, at: str) -> PersonRelationship:
    if rel.relationship not in codes.RELATIONSHIP_KINDS:
        raise invalid(f"{at}/relationship", "Not a known relationship.")
    if rel.person_id == person_id:
        raise invalid(f"{at}/person_id", "A person cannot be related to themselves.")
    if rel.relationship in codes.STORED_KINDS:
        kind, carer, other = rel.relationship, person_id, rel.person_id
    else:
        kind = next(k for k, inverse in codes.INVERSE.items() if inverse == rel.relationship)
        carer, other = rel.person_id, person_id
    if rel.parental_responsibility and kind not in codes.CARING_KINDS:
        raise invalid(
            f"{at}/parental_responsibility", "Only a parent or carer can hold responsibility."
        )
    duplicate = ctx.session.scalar(
        select(PersonRelationship.id).where(
            or_(
                (PersonRelationship.person_id == carer)
                & (PersonRelationship.related_person_id == other),
                (PersonRelationship.person_id == other)
                & (PersonRelationship.related_person_id == carer),
            )
        )
    )
    recorded = errors.ConflictError("Those two people already have a recorded relationship.")
    if duplicate is not None:
        raise recorded
    row = PersonRelationship(
        person_id=carer,
        related_person_id=other,
        kind=kind,
        parental_responsibility=rel.parental_responsibility,
        created_at=ctx.now(),
        created_by=ctx.actor.user_id if ctx.actor else None,
    )
    ctx.session.add(row)
    with first_writer_wins(recorded):
        ctx.session.flush()
    audit.record(
        ctx, "person.relationship_added", ("person", carer), related_person_id=other, kind=kind
    )
    return row


def remove_relationship(ctx: Context, *, person_id: int, related_person_id: int) -> None:
    """Remove the relationship recorded between two people (either way round), recorded in
    error or to be recorded differently. The removal is audited with what it said."""
    policies.ensure_can_write(ctx)
    get_person(ctx, person_id)
    get_person(ctx, related_person_id)
    row = ctx.session.scalar(
        select(PersonRelationship).where(
            or_(
                (PersonRelationship.person_id == person_id)
                & (PersonRelationship.related_person_id == related_person_id),
                (PersonRelationship.person_id == related_person_id)
                & (PersonRelationship.related_person_id == person_id),
            )
        )
    )
    none = errors.NotFoundError("No relationship is recorded between those two people.")
    if row is None:
        raise none
    carer, other, kind = row.person_id, row.related_person_id, row.kind
    removed = ctx.session.execute(
        delete(PersonRelationship)
        .where(PersonRelationship.id == row.id)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], removed).rowcount != 1:  # removed meanwhile, as a later try finds
        raise none
    ctx.session.expunge(row)
    audit.record(
        ctx, "person.relationship_removed", ("person", carer), related_person_id=other, kind=kind
    )


def relationships_among(ctx: Context, person_ids: Sequence[int]) -> Sequence[PersonRelationship]:
    """Return every relationship row touching any of these people."""
    if not person_ids:
        return []
    query = select(PersonRelationship).where(
        or_(
            PersonRelationship.person_id.in_(person_ids),
            PersonRelationship.related_person_id.in_(person_ids),
        )
    )
    return ctx.session.scalars(query.order_by(PersonRelationship.id)).all()


STALE_EDIT = (
    "Someone else changed this person's details after you opened them. "
    "Reload to see their changes, then make yours again."
)


def update_person(
    ctx: Context,
    *,
    person_id: int,
    changes: Mapping[str, Any],
    unchanged_since: datetime | None = None,
) -> Person:
    """Change a person's name, sex, dates or recorded child/adult status (only keys given).

    `unchanged_since` is the `updated_at` the editor read: if the person has been changed
    since, by anyone, nothing is changed and ConflictError says so (a lost update otherwise:
    two agencies correcting one child's record at once would each overwrite the other).
    """
    policies.ensure_can_write(ctx)
    person = get_person(ctx, person_id)
    unknown = sorted(set(changes) - PERSON_FIELDS)
    if unknown:
        raise invalid(f"#/{unknown[0]}", "Unknown field.")
    if unchanged_since is not None:
        # one conditional UPDATE, so that of two editors of the same version only one goes on
        claimed = ctx.session.execute(
            update(Person)
            .where(Person.id == person.id, Person.updated_at == unchanged_since)
            .values(updated_at=ctx.now())
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], claimed).rowcount != 1:
            raise errors.ConflictError(STALE_EDIT)
    merged = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "sex": person.sex,
        "date_of_birth": person.date_of_birth,
        "expected_date_of_birth": person.expected_date_of_birth,
        "is_child": person.recorded_is_child,
        **changes,
    }
    if changes.get("date_of_birth") is not None and "expected_date_of_birth" not in changes:
        merged["expected_date_of_birth"] = None  # the baby has been born
    details = PersonDetails(**merged)
    _check_details(ctx, details, "#")
    _apply(person, details)
    person.updated_at = ctx.now()
    audit.record(ctx, "person.updated", ("person", person.id), fields=sorted(changes))
    ctx.session.flush()
    return person


def _create_person(ctx: Context, details: PersonDetails) -> Person:
    _check_details(ctx, details, "#/person")
    now = ctx.now()
    person = Person(
        created_at=now, updated_at=now, created_by=ctx.actor.user_id if ctx.actor else None
    )
    _apply(person, details)
    ctx.session.add(person)
    ctx.session.flush()
    audit.record(ctx, "person.created", ("person", person.id))
    return person


def _apply(person: Person, details: PersonDetails) -> None:
    person.given_name = details.given_name.strip()
    person.family_name = details.family_name.strip()
    person.search_key = search_key(person.given_name, person.family_name)
    person.sex = details.sex
    person.date_of_birth = details.date_of_birth
    person.expected_date_of_birth = details.expected_date_of_birth
    person.recorded_is_child = details.is_child


def _check_details(ctx: Context, details: PersonDetails, at: str) -> None:
    today = local_today(ctx)
    for name in ("given_name", "family_name"):
        value = getattr(details, name)
        if not isinstance(value, str) or not value.strip():
            raise invalid(f"{at}/{name}", "Enter a name.")
    if details.sex not in codes.SEXES:
        raise invalid(f"{at}/sex", "Use F, M or U.")
    born, due = details.date_of_birth, details.expected_date_of_birth
    if born is not None and due is not None:
        raise invalid(f"{at}/expected_date_of_birth", "Give a date of birth or an expected one.")
    if born is not None and (born > today or born.year < 1900):
        raise invalid(f"{at}/date_of_birth", "The date of birth must be a past date.")
    if due is not None and abs(due - today) > _EDD_WINDOW:
        raise invalid(f"{at}/expected_date_of_birth", "The expected date must be within a year.")
    if due is not None and details.is_child is False:
        raise invalid(f"{at}/is_child", "An unborn child is a child.")
    if born is None and due is None and details.is_child is None:
        raise invalid(f"{at}/is_child", "Say whether the person is a child or an adult.")
