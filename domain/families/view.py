"""The Think Family view: every member, every process of every member, and the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select

from domain.agencies import service as agencies_service
from domain.audit import service as audit
from domain.context import Context
from domain.families import ages, codes, policies
from domain.families.consent import list_consents, list_sharing_decisions
from domain.families.disabilities import current_codes, log_special_category_read
from domain.families.ethnicity import census_code, current_records
from domain.families.history import (
    ProcessView,
    TimelinePage,
    instances_for,
    people_named,
    process_views,
)
from domain.families.history import timeline as family_timeline
from domain.families.membership import departures
from domain.families.models import (
    ConsentRecord,
    EthnicityRecord,
    Family,
    FamilyMembership,
    InformationSharingDecision,
    Person,
    PersonRelationship,
)
from domain.families.service import (
    get_family,
    get_person,
    members_of,
    relationships_among,
)
from domain.users import service as users_service


@dataclass(frozen=True, slots=True)
class RelationView:
    """How another person relates to this one: `relationship` is what they are to this person."""

    person_id: int
    relationship: str
    parental_responsibility: bool
    """The carer in this relationship holds parental responsibility."""
    responsibility_holder_id: int | None


@dataclass(frozen=True, slots=True)
class MemberView:
    """A person as the Think Family view shows them. Special category fields are None when
    the viewer may not see them (`FamilyView.special_category_visible`)."""

    person: Person
    age_years: int | None
    age_label: str
    under_5: bool
    is_child: bool
    is_unborn: bool
    relationships: tuple[RelationView, ...]
    family_ids: tuple[int, ...]
    """Every household the person belongs to (this one included)."""
    ethnicity: EthnicityRecord | None
    ethnicity_status: str | None
    census_ethnicity: str | None
    disabilities: list[str] | None
    left_on: date | None = None
    """In a household's view: the day they left it (None while they live there)."""
    left_reason: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyView:
    """A household with its members (under-5s first), their processes and the timeline."""

    family: Family
    members: tuple[MemberView, ...]
    processes: tuple[ProcessView, ...]
    timeline: TimelinePage
    consents: tuple[ConsentRecord, ...]
    sharing_decisions: tuple[InformationSharingDecision, ...]
    special_category_visible: bool
    other_households: dict[int, Family]
    """The other households members are in, by id (to name them, not just number them)."""


def get_family_view(
    ctx: Context, family_id: int, *, show: str = "all", before: int | None = None
) -> FamilyView:
    """Build the Think Family view, logging the access (and any special category read).

    `show` and `before` choose the page of the timeline (see `history.timeline`).
    """
    family = get_family(ctx, family_id)
    people = members_of(ctx, family.id)
    ids = [p.id for p in people]
    special = policies.may_see_special_category(ctx.actor)
    members = _in_household(ctx, family.id, member_views(ctx, people, special=special))
    instances = instances_for(ctx, family_id=family.id, person_ids=ids)
    audit.record(ctx, "family.viewed", ("family", family.id))
    if special:
        log_special_category_read(ctx, ids, via="family_view")
    return FamilyView(
        family=family,
        members=tuple(members),
        processes=tuple(process_views(ctx, instances)),
        timeline=family_timeline(
            ctx, family_id=family.id, person_ids=ids, instances=instances, show=show, before=before
        ),
        consents=tuple(list_consents(ctx, family.id)),
        sharing_decisions=tuple(list_sharing_decisions(ctx, family.id)),
        special_category_visible=special,
        other_households=_households(ctx, {f for m in members for f in m.family_ids} - {family.id}),
    )


def _households(ctx: Context, ids: set[int]) -> dict[int, Family]:
    if not ids:
        return {}
    return {f.id: f for f in ctx.session.scalars(select(Family).where(Family.id.in_(ids)))}


def get_timeline(
    ctx: Context, family_id: int, *, show: str = "all", before: int | None = None
) -> TimelinePage:
    """One page of a household's timeline alone (the read is audited as a view of the family)."""
    family = get_family(ctx, family_id)
    ids = [p.id for p in members_of(ctx, family.id)]
    instances = instances_for(ctx, family_id=family.id, person_ids=ids)
    audit.record(ctx, "family.viewed", ("family", family.id), via="timeline")
    return family_timeline(
        ctx, family_id=family.id, person_ids=ids, instances=instances, show=show, before=before
    )


@dataclass(frozen=True, slots=True)
class TimelineNames:
    """Who a timeline page names: people (members or not), users and agencies, by id."""

    people: dict[int, Person]
    users: dict[int, str]
    agencies: dict[int, str]


def timeline_names(
    ctx: Context, page: TimelinePage, members: Sequence[Person] = ()
) -> TimelineNames:
    """Look up everyone a timeline page names, at most three queries (members are known)."""
    people = {p.id: p for p in members}
    missing = sorted(people_named(page) - set(people))
    if missing:
        people.update(
            (p.id, p) for p in ctx.session.scalars(select(Person).where(Person.id.in_(missing)))
        )
    return TimelineNames(
        people=people,
        users=users_service.display_names(ctx, (e.actor_id for e in page.entries)),
        agencies=agencies_service.names_by_id(ctx, (e.agency_id for e in page.entries)),
    )


@dataclass(frozen=True, slots=True)
class Household:
    """The Think Family panel beside a task: every member and the household's open processes."""

    family: Family
    members: tuple[MemberView, ...]
    open_processes: tuple[ProcessView, ...]


def get_household(ctx: Context, family_id: int) -> Household:
    """Every member (children under 5 first) and every open process of any member (audited)."""
    family = get_family(ctx, family_id)
    people = members_of(ctx, family.id)
    ids = [p.id for p in people]
    members = _in_household(ctx, family.id, member_views(ctx, people, special=False))
    instances = instances_for(ctx, family_id=family.id, person_ids=ids)
    audit.record(ctx, "family.viewed", ("family", family.id), via="task")
    open_processes = [view for view in process_views(ctx, instances) if view.open]
    return Household(family=family, members=tuple(members), open_processes=tuple(open_processes))


def get_person_view(ctx: Context, person_id: int) -> MemberView:
    """Describe one person (for the person page), logging the access like the family view."""
    person = get_person(ctx, person_id)
    special = policies.may_see_special_category(ctx.actor)
    (view,) = member_views(ctx, [person], special=special)
    audit.record(ctx, "person.viewed", ("person", person.id))
    if special:
        log_special_category_read(ctx, [person.id], via="person")
    return view


def member_views(ctx: Context, people: Sequence[Person], *, special: bool) -> list[MemberView]:
    """Describe people with ages on today's UK date, relationships and (if allowed) ethnicity."""
    today = ages.local_today(ctx)
    ids = [p.id for p in people]
    relations = _relations(relationships_among(ctx, ids))
    others = _other_families(ctx, ids)
    ethnicity = current_records(ctx, ids) if special else {}
    disabilities = current_codes(ctx, ids) if special else {}
    return [
        _member(p, today, relations, others, ethnicity, disabilities, special=special)
        for p in people
    ]


def _member(
    person: Person,
    today: date,
    relations: dict[int, list[RelationView]],
    others: dict[int, list[int]],
    ethnicity: dict[int, EthnicityRecord],
    disabilities: dict[int, list[str]],
    *,
    special: bool,
) -> MemberView:
    record = ethnicity.get(person.id)
    return MemberView(
        person=person,
        age_years=ages.age_years(person, today),
        age_label=ages.age_label(person, today),
        under_5=ages.is_under_5(person, today),
        is_child=ages.is_child(person, today),
        is_unborn=person.is_unborn,
        relationships=tuple(relations.get(person.id, ())),
        family_ids=tuple(others.get(person.id, ())),
        ethnicity=record if special else None,
        ethnicity_status=codes.ethnicity_status(record.code if record else None)
        if special
        else None,
        census_ethnicity=census_code(record) if special else None,
        disabilities=disabilities.get(person.id) if special else None,
    )


def _relations(rows: Sequence[PersonRelationship]) -> dict[int, list[RelationView]]:
    out: dict[int, list[RelationView]] = {}
    for row in rows:
        holder = row.person_id if row.parental_responsibility else None
        out.setdefault(row.related_person_id, []).append(
            RelationView(row.person_id, row.kind, row.parental_responsibility, holder)
        )
        out.setdefault(row.person_id, []).append(
            RelationView(
                row.related_person_id,
                codes.INVERSE[row.kind],
                row.parental_responsibility,
                holder,
            )
        )
    return out


def _other_families(ctx: Context, person_ids: Sequence[int]) -> dict[int, list[int]]:
    if not person_ids:
        return {}
    rows = ctx.session.execute(
        select(FamilyMembership.person_id, FamilyMembership.family_id)
        .where(FamilyMembership.person_id.in_(person_ids))
        .order_by(FamilyMembership.id)
    )
    out: dict[int, list[int]] = {}
    for person_id, family_id in rows:
        out.setdefault(person_id, []).append(family_id)
    return out


def _in_household(ctx: Context, family_id: int, views: Sequence[MemberView]) -> list[MemberView]:
    """Members with the day any of them left this household: those living there first (under-5s
    first), then those who have left, most recently first."""
    left = departures(ctx, family_id)
    marked = [
        replace(v, left_on=left[v.person.id].left_on, left_reason=left[v.person.id].left_reason)
        if v.person.id in left
        else v
        for v in views
    ]
    living = sorted((v for v in marked if v.left_on is None), key=_order)
    gone = sorted(
        (v for v in marked if v.left_on is not None),
        key=lambda v: (-(v.left_on or date.min).toordinal(), _order(v)),
    )
    return [*living, *gone]


def _order(member: MemberView) -> tuple[Any, ...]:
    """Children under 5 (youngest first), then other children (youngest first), then adults."""
    person = member.person
    if member.is_child:
        group = 0 if member.under_5 else 1
        born = person.date_of_birth or person.expected_date_of_birth
        return (group, born is None, -born.toordinal() if born else 0, person.id)
    return (2, person.family_name.lower(), person.given_name.lower(), person.id)
