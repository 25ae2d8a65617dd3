"""Families, people, relationships, ages, search, consent, sharing and the Think Family view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from api.common.context import base_context
from domain import errors
from domain.audit.models import AuditEvent
from domain.context import Context
from domain.families import ages, consent, ethnicity, history, membership, view
from domain.families import service as families
from domain.families.models import Person, PersonRelationship
from domain.families.service import PersonDetails, RelationshipInput
from domain.processes import definitions, instances, runtime
from domain.users import service as users
from domain.users.models import User
from tests.conftest import FakeClock, make_agency, make_user

TODAY = date(2026, 12, 21)  # the conftest clock: Monday 21 December 2026, 10:00 UTC

CHECK_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="family_check_defs" targetNamespace="http://thinkfamily.test/family_check">
  <bpmn:process id="family_check" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_practitioner" name="practitioner">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>visit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="visit"/>
    <bpmn:userTask id="visit" name="Visit the family">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="dueWorkingDays" value="2"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="review"/>
    <bpmn:userTask id="review" name="Review the visit"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _actor_context(app: Flask, username: str, roles: list[str], agency: str = "csc") -> Context:
    kind = "childrens_social_care" if agency == "csc" else "partnership"
    make_user(app, username, roles, agency=agency, kind=kind)
    context = base_context(None)
    user = context.session.scalar(select(User).where(User.username == username))
    assert user is not None
    context.actor = users.actor_of(user)
    return context


@pytest.fixture
def ctx(app: Flask) -> Iterator[Context]:
    with app.app_context():
        yield _actor_context(app, "sw", ["practitioner"])


def adult(given: str = "Alex", family: str = "Tester") -> PersonDetails:
    return PersonDetails(given, family, "F", date_of_birth=date(1990, 5, 1))


def child(given: str, born: date | None = None, due: date | None = None) -> PersonDetails:
    return PersonDetails(given, "Tester", "M", date_of_birth=born, expected_date_of_birth=due)


def pointers(exc: pytest.ExceptionInfo[errors.ValidationFailedError]) -> list[str]:
    return [e["pointer"] for e in exc.value.errors]


def test_create_family_generates_reference_and_audits(ctx: Context) -> None:
    family = families.create_family(ctx, name="Tester household")
    assert family.reference == f"FAM-{family.id:06d}"
    event = ctx.session.scalar(select(AuditEvent).where(AuditEvent.action == "family.created"))
    assert event is not None
    assert (event.subject_type, event.subject_id, event.actor_id) == (
        "family",
        str(family.id),
        ctx.actor.user_id if ctx.actor else None,
    )


def test_create_family_rejects_bad_or_duplicate_reference(ctx: Context) -> None:
    families.create_family(ctx, reference="DEMO-1")
    with pytest.raises(errors.ConflictError):
        families.create_family(ctx, reference="DEMO-1")
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.create_family(ctx, reference="lower case")
    assert pointers(exc) == ["#/reference"]


def test_a_given_reference_may_not_take_one_a_later_family_is_given(ctx: Context) -> None:
    """FAM-000002 given by hand would make the second family's own reference clash."""
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.create_family(ctx, reference="FAM-000002")
    assert pointers(exc) == ["#/reference"]
    first, second = families.create_family(ctx), families.create_family(ctx)
    assert (first.reference, second.reference) == (
        f"FAM-{first.id:06d}",
        f"FAM-{second.id:06d}",
    )


def test_add_member_records_relationship_and_its_inverse(ctx: Context) -> None:
    family = families.create_family(ctx)
    mum = families.add_member(ctx, family_id=family.id, person=adult("Mum"))
    kid = families.add_member(
        ctx,
        family_id=family.id,
        person=child("Kid", date(2018, 1, 1)),
        relationships=[RelationshipInput(mum.id, "child", parental_responsibility=True)],
    )
    row = ctx.session.scalar(select(PersonRelationship))
    assert row is not None
    assert (row.person_id, row.related_person_id, row.kind) == (mum.id, kid.id, "parent")
    members = {m.person.id: m for m in view.get_family_view(ctx, family.id).members}
    (of_kid,) = members[kid.id].relationships
    (of_mum,) = members[mum.id].relationships
    assert (of_kid.person_id, of_kid.relationship, of_kid.parental_responsibility) == (
        mum.id,
        "parent",
        True,
    )
    assert (of_mum.person_id, of_mum.relationship) == (kid.id, "child")
    assert of_kid.responsibility_holder_id == of_mum.responsibility_holder_id == mum.id


@pytest.mark.parametrize(
    ("given", "seen_by_new", "seen_by_other"),
    [
        ("step_parent", "step_child", "step_parent"),
        ("step_child", "step_parent", "step_child"),
        ("half_sibling", "half_sibling", "half_sibling"),
        ("step_sibling", "step_sibling", "step_sibling"),
        ("sibling", "sibling", "sibling"),
        ("other_carer", "cared_for_child", "other_carer"),
        ("cared_for_child", "other_carer", "cared_for_child"),
    ],
)
def test_every_relationship_kind_shows_the_right_inverse(
    ctx: Context, given: str, seen_by_new: str, seen_by_other: str
) -> None:
    family = families.create_family(ctx)
    other = families.add_member(ctx, family_id=family.id, person=child("First", date(2015, 3, 3)))
    new = families.add_member(
        ctx,
        family_id=family.id,
        person=child("Second", date(2016, 4, 4)),
        relationships=[RelationshipInput(other.id, given)],
    )
    members = {m.person.id: m for m in view.get_family_view(ctx, family.id).members}
    # `relationship` is what the other person is to this member
    assert members[new.id].relationships[0].relationship == seen_by_new
    assert members[other.id].relationships[0].relationship == seen_by_other


def test_parental_responsibility_only_between_carer_and_child(ctx: Context) -> None:
    family = families.create_family(ctx)
    first = families.add_member(ctx, family_id=family.id, person=child("First", date(2015, 3, 3)))
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.add_member(
            ctx,
            family_id=family.id,
            person=child("Second", date(2016, 3, 3)),
            relationships=[RelationshipInput(first.id, "sibling", parental_responsibility=True)],
        )
    assert pointers(exc) == ["#/relationships/0/parental_responsibility"]


def test_relationship_to_someone_outside_the_family_is_rejected(ctx: Context) -> None:
    family = families.create_family(ctx)
    elsewhere = families.create_family(ctx)
    stranger = families.add_member(ctx, family_id=elsewhere.id, person=adult())
    member = families.add_member(ctx, family_id=family.id, person=adult("Member"))
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.add_member(
            ctx,
            family_id=family.id,
            person=child("Kid", date(2019, 1, 1)),
            relationships=[
                RelationshipInput(member.id, "child"),
                RelationshipInput(stranger.id, "child"),
            ],
        )
    assert pointers(exc) == ["#/relationships/1/person_id"]


def test_a_person_can_belong_to_two_households(ctx: Context) -> None:
    mums = families.create_family(ctx)
    dads = families.create_family(ctx)
    kid = families.add_member(ctx, family_id=mums.id, person=child("Kid", date(2014, 2, 2)))
    families.add_member(ctx, family_id=dads.id, person_id=kid.id)
    with pytest.raises(errors.ConflictError):
        families.add_member(ctx, family_id=dads.id, person_id=kid.id)
    (member,) = view.get_family_view(ctx, dads.id).members
    assert member.family_ids == (mums.id, dads.id)


def test_add_member_needs_a_new_person_or_an_existing_one(ctx: Context) -> None:
    family = families.create_family(ctx)
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.add_member(ctx, family_id=family.id)
    assert pointers(exc) == ["#/person"]
    with pytest.raises(errors.NotFoundError):
        families.add_member(ctx, family_id=family.id, person_id=999)
    with pytest.raises(errors.NotFoundError):
        families.add_member(ctx, family_id=999, person=adult())


@pytest.mark.parametrize(
    ("details", "pointer"),
    [
        (PersonDetails("A", "B", "F", date_of_birth=date(2027, 1, 1)), "#/person/date_of_birth"),
        (
            PersonDetails("A", "B", "F", date(2020, 1, 1), date(2027, 1, 1)),
            "#/person/expected_date_of_birth",
        ),
        (PersonDetails("A", "B", "F"), "#/person/is_child"),
        (
            PersonDetails("A", "B", "U", expected_date_of_birth=date(2027, 3, 1), is_child=False),
            "#/person/is_child",
        ),
        (
            PersonDetails("A", "B", "U", expected_date_of_birth=date(2029, 3, 1)),
            "#/person/expected_date_of_birth",
        ),
        (PersonDetails("A", "B", "X", is_child=True), "#/person/sex"),
        (PersonDetails(" ", "B", "F", is_child=True), "#/person/given_name"),
    ],
)
def test_person_details_are_checked(ctx: Context, details: PersonDetails, pointer: str) -> None:
    family = families.create_family(ctx)
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.add_member(ctx, family_id=family.id, person=details)
    assert pointers(exc) == [pointer]


def _person(**kw: object) -> Person:
    return Person(given_name="A", family_name="B", sex="U", **kw)


def test_child_or_adult_is_derived_from_age_when_known() -> None:
    assert ages.is_child(_person(date_of_birth=date(2009, 12, 22)), TODAY)  # 18 tomorrow
    assert not ages.is_child(_person(date_of_birth=date(2008, 12, 21)), TODAY)  # 18 today
    assert ages.is_child(_person(expected_date_of_birth=date(2027, 3, 1)), TODAY)
    assert not ages.is_child(_person(recorded_is_child=False), TODAY)
    assert ages.is_child(_person(recorded_is_child=True), TODAY)
    # a recorded flag never overrides the date of birth
    assert not ages.is_child(_person(date_of_birth=date(1980, 1, 1), recorded_is_child=True), TODAY)


def test_age_labels() -> None:
    assert ages.age_label(_person(expected_date_of_birth=date(2027, 3, 3)), TODAY) == (
        "unborn, due 3 March 2027"
    )
    assert ages.age_label(_person(date_of_birth=date(2026, 7, 1)), TODAY) == "5 months"
    assert ages.age_label(_person(date_of_birth=date(2026, 11, 21)), TODAY) == "1 month"
    assert ages.age_label(_person(date_of_birth=date(2026, 12, 1)), TODAY) == "under 1 month"
    assert ages.age_label(_person(date_of_birth=date(2025, 12, 21)), TODAY) == "1 year"
    assert ages.age_label(_person(date_of_birth=date(2019, 1, 1)), TODAY) == "7 years"
    assert ages.age_label(_person(recorded_is_child=False), TODAY) == "age not known"
    leap = _person(date_of_birth=date(2008, 2, 29))
    assert ages.age_years(leap, date(2026, 2, 28)) == 17
    assert ages.age_years(leap, date(2026, 3, 1)) == 18


def test_age_uses_the_uk_local_date(ctx: Context, clock: FakeClock) -> None:
    clock.move_to("2026-06-30T23:30:00+00:00")  # already 1 July in London (BST)
    assert ages.local_today(ctx) == date(2026, 7, 1)
    family = families.create_family(ctx)
    families.add_member(
        ctx, family_id=family.id, person=PersonDetails("A", "B", "F", date(2008, 7, 1))
    )
    (member,) = view.get_family_view(ctx, family.id).members
    assert (member.age_years, member.is_child) == (18, False)


def test_update_person_records_a_birth_and_audits_field_names_only(ctx: Context) -> None:
    family = families.create_family(ctx)
    baby = families.add_member(ctx, family_id=family.id, person=child("Baby", due=date(2027, 1, 5)))
    families.update_person(
        ctx, person_id=baby.id, changes={"date_of_birth": date(2026, 12, 20), "given_name": "Rowan"}
    )
    assert (baby.date_of_birth, baby.expected_date_of_birth, baby.given_name) == (
        date(2026, 12, 20),
        None,
        "Rowan",
    )
    event = ctx.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.updated"))
    assert event is not None
    assert event.details == {"fields": ["date_of_birth", "given_name"]}
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.update_person(ctx, person_id=baby.id, changes={"nickname": "x"})
    assert pointers(exc) == ["#/nickname"]
    with pytest.raises(errors.ValidationFailedError) as exc:
        families.update_person(ctx, person_id=baby.id, changes={"sex": "Q"})
    assert pointers(exc) == ["#/sex"]


def test_an_edit_of_a_person_someone_changed_since_is_refused_not_merged(
    ctx: Context, clock: FakeClock
) -> None:
    """Two editors open Amy's record; the second to save is told, and changes nothing."""
    family = families.create_family(ctx)
    amy = families.add_member(ctx, family_id=family.id, person=child("Amy", born=date(2019, 6, 1)))
    read = amy.updated_at
    clock.advance(minutes=5)
    families.update_person(
        ctx, person_id=amy.id, changes={"date_of_birth": date(2019, 6, 2)}, unchanged_since=read
    )
    ctx.session.commit()
    clock.advance(minutes=5)
    with pytest.raises(errors.ConflictError, match="after you opened them"):
        families.update_person(
            ctx, person_id=amy.id, changes={"given_name": "Aimee"}, unchanged_since=read
        )
    ctx.session.rollback()
    amy = families.get_person(ctx, amy.id)
    assert (amy.given_name, amy.date_of_birth) == ("Amy", date(2019, 6, 2))
    families.update_person(  # read afresh, the change goes through
        ctx, person_id=amy.id, changes={"given_name": "Aimee"}, unchanged_since=amy.updated_at
    )
    assert amy.given_name == "Aimee"


def test_search_matches_reference_household_or_member_name(ctx: Context) -> None:
    first = families.create_family(ctx, name="Harbour household")
    families.add_member(ctx, family_id=first.id, person=adult("Marigold", "Fenwick"))
    second = families.create_family(ctx)
    families.add_member(ctx, family_id=second.id, person=adult("Percy", "Ollerton"))

    def found(term: str) -> list[int]:
        return [f.id for f in families.list_families(ctx, search=term)]

    assert found(first.reference or "") == [first.id]
    assert found("harbour") == [first.id]
    assert found("OLLER") == [second.id]
    assert found("marigold fenwick") == [first.id]
    assert found("%") == []
    assert found("_") == []
    assert found("") == [second.id, first.id]


@pytest.mark.parametrize(
    ("given", "surname", "typed"),
    [
        ("Zoë", "Smith", "zoe smith"),  # typed without the accent
        ("Zoe", "Smith", "ZOË"),  # typed with one the record lacks
        ("Siobhán", "Ó Briain", "siobhan o briain"),
        ("Siobhán", "Ó Briain", "obriain"),  # a word break typed or not
        ("Sean", "O'Briain", "o briain"),
        ("Łukasz", "Wiśniewski", "lukasz wisniewski"),
        ("ŁUKASZ", "WIŚNIEWSKI", "łukasz"),  # capitals beyond ASCII
        ("Søren", "Ærø", "soren aero"),
        ("Ay\u015fe", "Y\u0131ld\u0131z", "ayse yildiz"),  # Turkish dotless i
        ("Jürgen", "Groß", "jurgen gross"),
        ("Nguyễn", "Thị Minh", "nguyen thi"),
        ("Seán", "O'Brien", "obrien"),  # an apostrophe typed or not
        ("Sean", "OBrien", "o'brien"),
        ("Sean", "O\u2019Brien", "o'brien"),  # a typographic apostrophe
        ("Amy", "Smith-Jones", "amy smith jones"),  # a hyphen typed as a space
        ("Amy", "Smith Jones", "smith-jones"),
        ("Amy", "Smith", "smith amy"),  # words in any order
        ("Amy", "Smith", "  amy   smith "),
        ("\uff3a\uff4f\uff45", "\uff33\uff4d\uff49\uff54\uff48", "zoe smith"),  # full width
    ],
)
def test_search_finds_a_name_however_its_accents_capitals_and_punctuation_are_typed(
    ctx: Context, given: str, surname: str, typed: str
) -> None:
    family = families.create_family(ctx)
    families.add_member(ctx, family_id=family.id, person=adult(given, surname))
    other = families.create_family(ctx)
    families.add_member(ctx, family_id=other.id, person=adult("Someone", "Else"))

    assert [f.id for f in families.list_families(ctx, search=typed)] == [family.id]


def test_search_words_must_all_match_one_name_or_the_household(ctx: Context) -> None:
    smiths = families.create_family(ctx, name="Smith household")
    families.add_member(ctx, family_id=smiths.id, person=adult("Amy", "Smith"))
    families.add_member(ctx, family_id=smiths.id, person=adult("Ben", "Jones"))
    renamed = families.create_family(ctx, name="Harbour household")
    families.add_member(ctx, family_id=renamed.id, person=adult("Ben", "Smith"))

    def found(term: str) -> list[int]:
        return [f.id for f in families.list_families(ctx, search=term)]

    assert found("amy smith") == [smiths.id]
    assert found("ben smith") == [renamed.id]  # not Amy Smith's household with Ben Jones in it
    assert found("smith household") == [smiths.id]
    assert found("smith") == [renamed.id, smiths.id]
    assert found(smiths.reference or "") == [smiths.id]
    assert found((smiths.reference or "").lower().replace("-", " ")) == [smiths.id]
    assert found("' -") == []  # no letter or digit typed: nothing matches


def test_search_follows_a_corrected_name(ctx: Context) -> None:
    family = families.create_family(ctx)
    person = families.add_member(ctx, family_id=family.id, person=adult("Zoe", "Smith"))
    families.update_person(ctx, person_id=person.id, changes={"given_name": "Zoë"})

    assert [f.id for f in families.list_families(ctx, search="zoë")] == [family.id]
    families.update_person(ctx, person_id=person.id, changes={"given_name": "Chloë"})
    assert families.list_families(ctx, search="zoe") == []
    assert [f.id for f in families.list_families(ctx, search="chloe")] == [family.id]


def test_view_orders_under_fives_youngest_first_then_children_then_adults(ctx: Context) -> None:
    family = families.create_family(ctx)
    for details in (
        adult("Zed", "Adult"),
        child("Ten", date(2016, 6, 1)),
        child("Two", date(2024, 6, 1)),
        PersonDetails("Teen", "Tester", "F", is_child=True),
        child("Unborn", due=date(2027, 4, 1)),
        child("Four", date(2022, 6, 1)),
        child("Seven", date(2019, 6, 1)),
        adult("Amy", "Adult"),
    ):
        families.add_member(ctx, family_id=family.id, person=details)
    members = view.get_family_view(ctx, family.id).members
    assert [m.person.given_name for m in members] == [
        "Unborn",
        "Two",
        "Four",
        "Seven",
        "Ten",
        "Teen",
        "Amy",
        "Zed",
    ]
    assert [m.under_5 for m in members] == [True, True, True] + [False] * 5
    assert members[0].age_label == "unborn, due 1 April 2027"
    assert members[0].is_unborn
    assert members[0].age_years is None


def _deploy_check(ctx: Context) -> None:
    definitions.deploy(
        ctx, key="family_check", bpmn_files={"family_check.bpmn": CHECK_BPMN}, forms={}
    )


def test_view_shows_open_and_closed_processes_of_every_member(ctx: Context) -> None:
    _deploy_check(ctx)
    family = families.create_family(ctx)
    other = families.create_family(ctx)
    mum = families.add_member(ctx, family_id=family.id, person=adult("Mum"))
    kid = families.add_member(ctx, family_id=family.id, person=child("Kid", date(2020, 1, 1)))
    stranger = families.add_member(ctx, family_id=other.id, person=adult("Stranger"))
    families.add_member(ctx, family_id=other.id, person_id=kid.id)  # the child's other household

    def start(data: dict[str, object]) -> int:
        return runtime.start_process(ctx, process_key="family_check", data=data).id

    by_family = start({"family_id": family.id})
    by_member = start({"family_id": other.id, "subject_person_ids": [stranger.id, kid.id]})
    by_adult = start({"subject_person_ids": [mum.id]})
    unrelated = start({"family_id": other.id, "subject_person_ids": [stranger.id]})
    runtime.terminate(ctx, instance_id=by_adult, reason="Closed for the test")
    processes = {p.instance_id: p for p in view.get_family_view(ctx, family.id).processes}
    assert set(processes) == {by_family, by_member, by_adult}
    assert unrelated not in processes
    open_one = processes[by_family]
    assert (open_one.open, open_one.status, open_one.current_stage) == (
        True,
        "active",
        "Visit the family",
    )
    assert open_one.next_due_at == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)
    assert open_one.reference
    assert open_one.process_key == "family_check"
    closed = processes[by_adult]
    assert (closed.open, closed.status, closed.next_due_at) == (False, "terminated", None)


def test_timeline_is_newest_first_with_titles_and_leaves_out_reads(
    ctx: Context, clock: FakeClock
) -> None:
    _deploy_check(ctx)
    family = families.create_family(ctx)
    clock.advance(minutes=1)
    kid = families.add_member(ctx, family_id=family.id, person=child("Kid", date(2020, 1, 1)))
    clock.advance(minutes=1)
    instance = runtime.start_process(
        ctx, process_key="family_check", data={"subject_person_ids": [kid.id]}
    )
    clock.advance(minutes=1)
    (task,) = instances.ready_tasks(ctx, instance.id)
    runtime.complete_task(ctx, task_id=task.id, data={})
    clock.advance(minutes=1)
    view.get_family_view(ctx, family.id)
    entries = view.get_family_view(ctx, family.id).timeline.entries
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    titles = [e.title for e in entries]
    assert titles[0] == "Completed: Visit the family"
    assert "family_check started" in titles
    assert "Person record created" in titles
    assert "Family record opened" in titles
    assert not any("viewed" in e.action for e in entries)
    assert all(e.reference == instance.reference for e in entries if e.instance_id)


def _busy_family(ctx: Context) -> tuple[int, list[Person]]:
    """A household whose record has many entries, most of them written in the same instant."""
    family = families.create_family(ctx)
    mum = families.add_member(ctx, family_id=family.id, person=adult("Mum"))
    kids = [
        families.add_member(
            ctx,
            family_id=family.id,
            person=child(f"Kid{n}", date(2015 + n, 1, 1)),
            relationships=[RelationshipInput(mum.id, "child", True)],
        )
        for n in range(5)
    ]
    return family.id, [mum, *kids]


def _every_page(ctx: Context, family_id: int, show: str, limit: int) -> list[list[int]]:
    ids = [p.id for p in families.members_of(ctx, family_id)]
    found = history.instances_for(ctx, family_id=family_id, person_ids=ids)
    pages: list[list[int]] = []
    before = None
    while True:
        page = history.timeline(
            ctx,
            family_id=family_id,
            person_ids=ids,
            instances=found,
            show=show,
            before=before,
            limit=limit,
        )
        pages.append([e.id for e in page.entries])
        if page.older_than is None:
            return pages
        assert page.older_than == page.entries[-1].id
        before = page.older_than


@pytest.mark.parametrize("show", ["all", "processes", "records"])
def test_timeline_pages_reach_every_entry_once_newest_first(ctx: Context, show: str) -> None:
    _deploy_check(ctx)
    family_id, people = _busy_family(ctx)
    for person in people[1:5]:
        started = runtime.start_process(
            ctx, process_key="family_check", data={"subject_person_ids": [person.id]}
        )
        if person.id % 2:
            (task,) = instances.ready_tasks(ctx, started.id)
            runtime.complete_task(ctx, task_id=task.id, data={})
    whole = _every_page(ctx, family_id, show, limit=10_000)
    assert len(whole) == 1
    expected = whole[0]
    assert len(expected) > 3  # more than one page of three
    pages = _every_page(ctx, family_id, show, limit=3)
    assert all(len(p) == 3 for p in pages[:-1])
    assert 1 <= len(pages[-1]) <= 3
    assert [i for p in pages for i in p] == expected  # each once, in the same order
    rows = {e.id: e for e in ctx.session.scalars(select(AuditEvent))}
    order = [(rows[i].at, i) for i in expected]
    assert order == sorted(order, reverse=True)
    actions = {rows[i].action for i in expected}
    assert actions <= set(history.TIMELINE_SHOWS[show])


def test_the_family_view_pages_on_past_one_page_of_timeline(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    family_id, _ = _busy_family(ctx)
    monkeypatch.setattr(history, "TIMELINE_PAGE", 4)
    first = view.get_family_view(ctx, family_id).timeline
    assert len(first.entries) == 4
    assert first.older_than == first.entries[-1].id
    second = view.get_family_view(ctx, family_id, before=first.older_than).timeline
    assert second.before == first.older_than
    assert not {e.id for e in first.entries} & {e.id for e in second.entries}
    assert second.entries[0].at <= first.entries[-1].at


def test_timeline_filters_split_processes_from_record_changes(ctx: Context) -> None:
    _deploy_check(ctx)
    family_id, people = _busy_family(ctx)
    instance = runtime.start_process(
        ctx, process_key="family_check", data={"subject_person_ids": [people[1].id]}
    )
    (task,) = instances.ready_tasks(ctx, instance.id)
    runtime.complete_task(ctx, task_id=task.id, data={})
    every = {e.id for e in view.get_family_view(ctx, family_id).timeline.entries}
    processes = view.get_family_view(ctx, family_id, show="processes").timeline.entries
    records = view.get_family_view(ctx, family_id, show="records").timeline.entries
    assert {e.action for e in processes} == {"process.started", "task.completed"}
    assert all(e.instance_id == instance.id for e in processes)
    assert {e.action for e in records} >= {
        "family.created",
        "person.created",
        "family.member_added",
    }
    assert not {e.action for e in records} & set(history.PROCESS_ACTIONS)
    assert {e.id for e in processes} | {e.id for e in records} == every
    with pytest.raises(ValueError, match="unknown timeline filter"):
        view.get_family_view(ctx, family_id, show="reads")


def test_timeline_entries_say_to_whom_how_related_what_changed_and_who_did_it(
    ctx: Context,
) -> None:
    family_id, (mum, kid, *_) = _busy_family(ctx)
    families.update_person(ctx, person_id=kid.id, changes={"given_name": "Kit", "sex": "F"})
    consent.record_consent(
        ctx,
        family_id=family_id,
        scope="taf",
        status="refused",
        given_by_person_id=mum.id,
        obtained_on=date(2026, 12, 18),
        method="verbal",
    )
    entries = view.get_family_view(ctx, family_id).timeline.entries
    by_action: dict[str, list[history.TimelineEntry]] = {}
    for entry in entries:
        by_action.setdefault(entry.action, []).append(entry)
    (changed,) = by_action["person.updated"]
    assert (changed.person_id, changed.changed) == (kid.id, ("given_name", "sex"))
    related = [e for e in by_action["person.relationship_added"] if e.other_person_id == kid.id]
    assert [(e.person_id, e.relationship) for e in related] == [(mum.id, "parent")]
    added = {e.person_id for e in by_action["family.member_added"]}
    assert {mum.id, kid.id} <= added
    (refused,) = by_action["family.consent_recorded"]
    assert (refused.status, refused.person_id) == ("refused", None)
    assert ctx.actor is not None
    assert {(e.actor_id, e.agency_id) for e in entries} == {
        (ctx.actor.user_id, ctx.actor.agency_id)
    }
    named = view.timeline_names(ctx, view.get_family_view(ctx, family_id).timeline)
    assert {mum.id, kid.id} <= set(named.people)
    assert set(named.users) == {ctx.actor.user_id}
    assert set(named.agencies) == {ctx.actor.agency_id}


def test_a_timeline_page_after_an_unknown_entry_is_empty(ctx: Context) -> None:
    family_id, _ = _busy_family(ctx)
    page = view.get_family_view(ctx, family_id, before=2_000_000_000).timeline
    assert (page.entries, page.older_than) == ((), None)


def test_a_member_who_left_stays_on_the_record_after_those_living_there(
    ctx: Context, clock: FakeClock
) -> None:
    family_id, (mum, *kids) = _busy_family(ctx)
    dad = families.add_member(ctx, family_id=family_id, person=adult("Dad"))
    membership.record_left(
        ctx, family_id=family_id, person_id=dad.id, left_on=date(2026, 6, 1), reason=None
    )
    clock.advance(minutes=1)
    left = membership.record_left(
        ctx,
        family_id=family_id,
        person_id=mum.id,
        left_on=date(2026, 12, 1),
        reason="  Moved in   with her partner ",
    )
    assert (left.left_on, left.left_reason) == (date(2026, 12, 1), "Moved in with her partner")

    members = view.get_family_view(ctx, family_id).members
    order = [m.person.id for m in members]
    assert order[-2:] == [mum.id, dad.id]  # after everyone living there, latest leaver first
    assert {m.person.id for m in members[:-2]} == {k.id for k in kids}
    assert all(m.left_on is None for m in members[:-2])
    assert (members[-2].left_on, members[-2].left_reason) == (
        date(2026, 12, 1),
        "Moved in with her partner",
    )
    household = view.get_household(ctx, family_id)
    assert [m.person.id for m in household.members] == order
    assert view.get_person_view(ctx, mum.id).left_on is None  # a person's own record

    membership.record_returned(ctx, family_id=family_id, person_id=mum.id)
    back = view.get_family_view(ctx, family_id)
    assert [m.person.id for m in back.members][-1] == dad.id
    assert next(m for m in back.members if m.person.id == mum.id).left_reason is None
    entries = back.timeline.entries
    assert [(e.action, e.person_id) for e in entries[:3]] == [
        ("family.member_returned", mum.id),
        ("family.member_left", mum.id),
        ("family.member_left", dad.id),
    ]
    assert entries[0].title == "Back living in the household"


def test_leaving_the_household_is_checked(ctx: Context) -> None:
    family_id, (mum, kid, *_) = _busy_family(ctx)
    other = families.create_family(ctx)
    stranger = families.add_member(ctx, family_id=other.id, person=adult("Stranger"))

    def left(person_id: int, day: date, reason: str | None = None) -> None:
        membership.record_left(
            ctx, family_id=family_id, person_id=person_id, left_on=day, reason=reason
        )

    with pytest.raises(errors.ValidationFailedError) as exc:
        left(mum.id, date(2026, 12, 22))  # the clock's today is 21 December 2026
    assert pointers(exc) == ["#/left_on"]
    with pytest.raises(errors.ValidationFailedError) as exc:
        left(kid.id, date(2014, 12, 31))  # born 1 January 2015
    assert pointers(exc) == ["#/left_on"]
    with pytest.raises(errors.ValidationFailedError) as exc:
        left(mum.id, date(2026, 12, 1), "x" * 201)
    assert pointers(exc) == ["#/reason"]
    with pytest.raises(errors.NotFoundError):
        left(stranger.id, date(2026, 12, 1))
    with pytest.raises(errors.ConflictError, match="living in the household"):
        membership.record_returned(ctx, family_id=family_id, person_id=mum.id)
    left(kid.id, date(2015, 1, 1), "x" * 200)  # the day of birth, and 200 characters, will do
    with pytest.raises(errors.ConflictError, match="already recorded"):
        left(kid.id, date(2026, 12, 1))
    kept = membership.departures(ctx, family_id)[kid.id]
    assert (kept.left_on, kept.left_reason) == (date(2015, 1, 1), "x" * 200)
    assert ctx.actor is not None
    owner = replace(ctx, actor=replace(ctx.actor, roles=frozenset({"process_owner"})))
    with pytest.raises(errors.PermissionDeniedError):
        membership.record_left(
            owner, family_id=family_id, person_id=mum.id, left_on=date(2026, 12, 1)
        )


def test_a_relationship_recorded_in_error_is_removed_either_way_round(ctx: Context) -> None:
    family_id, (mum, kid, other_kid, *_) = _busy_family(ctx)
    families.remove_relationship(ctx, person_id=kid.id, related_person_id=mum.id)
    assert not [
        r
        for r in families.relationships_among(ctx, [kid.id])
        if {r.person_id, r.related_person_id} == {kid.id, mum.id}
    ]
    with pytest.raises(errors.NotFoundError):
        families.remove_relationship(ctx, person_id=mum.id, related_person_id=kid.id)
    with pytest.raises(errors.NotFoundError):
        families.remove_relationship(ctx, person_id=kid.id, related_person_id=other_kid.id)
    families.add_relationship(
        ctx, person_id=mum.id, related_person_id=kid.id, relationship="step_parent"
    )
    entries = view.get_family_view(ctx, family_id).timeline.entries
    assert [(e.action, e.person_id, e.relationship, e.other_person_id) for e in entries[:2]] == [
        ("person.relationship_added", mum.id, "step_parent", kid.id),
        ("person.relationship_removed", mum.id, "parent", kid.id),
    ]
    assert ctx.actor is not None
    owner = replace(ctx, actor=replace(ctx.actor, roles=frozenset({"process_owner"})))
    with pytest.raises(errors.PermissionDeniedError):
        families.remove_relationship(owner, person_id=mum.id, related_person_id=kid.id)


def test_consent_given_refused_not_sought_and_withdrawn(ctx: Context) -> None:
    family = families.create_family(ctx)
    mum = families.add_member(ctx, family_id=family.id, person=adult("Mum"))
    teen = families.add_member(ctx, family_id=family.id, person=child("Teen", date(2011, 1, 1)))
    given = consent.record_consent(
        ctx,
        family_id=family.id,
        scope="taf",
        status="given",
        given_by_person_id=mum.id,
        obtained_on=date(2026, 12, 18),
        method="written",
    )
    refused = consent.record_consent(
        ctx,
        family_id=family.id,
        scope="share",
        status="refused",
        given_by_person_id=teen.id,
        competent_child=True,
        obtained_on=TODAY,
        method="verbal",
    )
    consent.record_consent(
        ctx,
        family_id=family.id,
        scope="refer",
        status="not_sought",
        not_sought_reason="Significant harm: asking would raise the risk.",
    )
    consent.withdraw_consent(ctx, consent_id=given.id)
    assert given.withdrawn_on == TODAY
    with pytest.raises(errors.InvalidTransitionError):
        consent.withdraw_consent(ctx, consent_id=given.id)
    with pytest.raises(errors.InvalidTransitionError):
        consent.withdraw_consent(ctx, consent_id=refused.id)
    assert [c.status for c in view.get_family_view(ctx, family.id).consents] == [
        "not_sought",
        "refused",
        "given",
    ]


GIVEN = {
    "scope": "share",
    "status": "given",
    "giver": "mum",
    "obtained_on": TODAY,
    "method": "verbal",
}
NOT_SOUGHT = {"scope": "refer", "status": "not_sought", "not_sought_reason": "Risk of harm."}


@pytest.mark.parametrize(
    ("args", "pointer"),
    [
        ({**NOT_SOUGHT, "not_sought_reason": " "}, "#/not_sought_reason"),
        ({**NOT_SOUGHT, "method": "verbal"}, "#/method"),
        ({**NOT_SOUGHT, "giver": "mum"}, "#/given_by_person_id"),
        ({**NOT_SOUGHT, "competent_child": True}, "#/competent_child"),
        ({**GIVEN, "giver": None}, "#/given_by_person_id"),
        ({**GIVEN, "giver": "kid"}, "#/competent_child"),
        ({**GIVEN, "competent_child": True}, "#/competent_child"),
        ({**GIVEN, "giver": "stranger"}, "#/given_by_person_id"),
        ({**GIVEN, "obtained_on": date(2026, 12, 22)}, "#/obtained_on"),
        ({**GIVEN, "obtained_on": None}, "#/obtained_on"),
        ({**GIVEN, "method": "telepathy"}, "#/method"),
        ({**GIVEN, "scope": "everything"}, "#/scope"),
        ({**GIVEN, "status": "maybe"}, "#/status"),
        ({**GIVEN, "not_sought_reason": "only when not sought"}, "#/not_sought_reason"),
        ({**GIVEN, "instance_id": 999}, "#/instance_id"),
    ],
)
def test_consent_is_checked(ctx: Context, args: dict[str, Any], pointer: str) -> None:
    family = families.create_family(ctx)
    elsewhere = families.create_family(ctx)
    people = {
        "mum": families.add_member(ctx, family_id=family.id, person=adult("Mum")).id,
        "kid": families.add_member(
            ctx, family_id=family.id, person=child("Kid", date(2016, 1, 1))
        ).id,
        "stranger": families.add_member(ctx, family_id=elsewhere.id, person=adult("Other")).id,
    }
    giver = args.pop("giver", None)
    with pytest.raises(errors.ValidationFailedError) as exc:
        consent.record_consent(
            ctx,
            family_id=family.id,
            given_by_person_id=people[giver] if giver else None,
            **args,
        )
    assert pointers(exc) == [pointer]


def test_information_sharing_decision_records_reasons_either_way(ctx: Context, app: Flask) -> None:
    make_agency(app, "police", "police")
    family = families.create_family(ctx)
    shared = consent.record_information_sharing(
        ctx,
        family_id=family.id,
        shared=True,
        information="Attendance records",
        recipients=["police", "csc"],
        purpose="Strategy discussion",
        lawful_basis="UK GDPR 6(1)(e); DPA 2018 Sch.1 para 18",
        consent_status="not_required_risk_of_harm",
    )
    declined = consent.record_information_sharing(
        ctx,
        family_id=family.id,
        shared=False,
        purpose="Not relevant to the concern; not proportionate.",
        consent_status="refused",
    )
    assert shared.recipients == ["police", "csc"]
    assert not declined.shared
    decisions = view.get_family_view(ctx, family.id).sharing_decisions
    assert [d.id for d in decisions] == [declined.id, shared.id]
    for changes, pointer in (
        ({"lawful_basis": None}, "#/lawful_basis"),
        ({"information": " "}, "#/information"),
        ({"recipients": []}, "#/recipients"),
        ({"recipients": ["csc", "nowhere"]}, "#/recipients/1"),
        ({"purpose": " "}, "#/purpose"),
        ({"consent_status": "maybe"}, "#/consent_status"),
        ({"consent_id": 999}, "#/consent_id"),
    ):
        args: dict[str, object] = {
            "shared": True,
            "information": "x",
            "recipients": ["csc"],
            "purpose": "y",
            "lawful_basis": "z",
            "consent_status": "given",
            **changes,
        }
        with pytest.raises(errors.ValidationFailedError) as exc:
            consent.record_information_sharing(ctx, family_id=family.id, **args)  # type: ignore[arg-type]
        assert pointers(exc) == [pointer]


def test_process_owners_read_without_special_category_and_cannot_write(
    app: Flask, ctx: Context
) -> None:
    owner = replace(ctx, actor=_actor_context(app, "owner", ["process_owner"], "partnership").actor)
    family = families.create_family(ctx)
    kid = families.add_member(ctx, family_id=family.id, person=child("Kid", date(2016, 1, 1)))
    ethnicity.record_ethnicity(ctx, person_id=kid.id, code="WBRI", source="parent_carer")
    with pytest.raises(errors.PermissionDeniedError):
        families.create_family(owner)
    with pytest.raises(errors.PermissionDeniedError):
        ethnicity.record_ethnicity(owner, person_id=kid.id, code="WBRI", source="self")
    before = _special_reads(ctx)
    seen = view.get_family_view(owner, family.id)
    (member,) = seen.members
    assert not seen.special_category_visible
    assert (member.ethnicity, member.ethnicity_status, member.disabilities) == (None, None, None)
    assert _special_reads(ctx) == before
    view.get_family_view(ctx, family.id)
    assert _special_reads(ctx) == before + 1


def _special_reads(ctx: Context) -> int:
    rows = ctx.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.special_category_viewed")
    )
    return len(list(rows))


def test_family_lookup(ctx: Context) -> None:
    family = families.create_family(ctx, reference="ABC-123")
    assert families.find_family_by_reference(ctx, "ABC-123") is family
    assert families.find_family_by_reference(ctx, "ABC-999") is None
    with pytest.raises(errors.NotFoundError):
        families.get_family(ctx, 999)
    with pytest.raises(errors.NotFoundError):
        families.get_person(ctx, 999)


def test_migration_keeps_existing_cases_and_downgrades(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from api.app import create_app
    from api.common.extensions import db

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}", "TESTING": True})
    with app.app_context():
        upgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            for statement in SEED_0001:
                conn.execute(text(statement))
        upgrade(revision="0002_families")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT family_id FROM process_instances")).all() == [(None,)]
            assert conn.execute(text("SELECT count(*) FROM human_tasks")).scalar() == 1
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        downgrade(revision="0001_foundation")
        with db.engine.connect() as conn:
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
            assert "families" not in tables
            assert conn.execute(text("SELECT count(*) FROM human_tasks")).scalar() == 1
        upgrade()
        db.engine.dispose()


SEED_0001 = (
    "INSERT INTO process_definitions (id, key, title, created_at)"
    " VALUES (1, 'k', 't', '2026-01-01')",
    "INSERT INTO process_versions (id, definition_id, number, content_hash, spec_json, bpmn, forms,"
    " tasks, element_names, parameters, created_at)"
    " VALUES (1, 1, 1, 'h', '{}', '{}', '{}', '{}', '{}', '{}', '2026-01-01')",
    "INSERT INTO process_instances (id, version_id, process_key, status, state, lock_version,"
    " family_id, subject_person_ids, started_at, updated_at, summary, active_elements,"
    " completed_elements) VALUES (1, 1, 'k', 'active', x'00', 1, 5, '[1]', '2026-01-01',"
    " '2026-01-01', '{}', '[]', '[]')",
    "INSERT INTO human_tasks (instance_id, task_uuid, element_id, title, status, created_at)"
    " VALUES (1, 'u', 'e', 't', 'ready', '2026-01-01')",
)
