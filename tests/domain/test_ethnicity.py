"""Ethnicity per person (domain brief §9) and disability codes (CIN rule 8790)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from api.common.context import base_context
from domain import errors
from domain.audit.models import AuditEvent
from domain.context import Context
from domain.families import disabilities, ethnicity, view
from domain.families import service as families
from domain.families.models import Family, Person
from domain.families.service import PersonDetails, RelationshipInput
from domain.users import service as users
from domain.users.models import User
from tests.conftest import FakeClock, make_user


@pytest.fixture
def ctx(app: Flask) -> Iterator[Context]:
    make_user(app, "sw", ["practitioner"])
    with app.app_context():
        context = base_context(None)
        user = context.session.scalar(select(User).where(User.username == "sw"))
        assert user is not None
        context.actor = users.actor_of(user)
        yield context


@pytest.fixture
def family(ctx: Context) -> Family:
    return families.create_family(ctx)


def add(ctx: Context, family: Family, given: str, born: date, *rels: RelationshipInput) -> Person:
    details = PersonDetails(given, "Tester", "F", date_of_birth=born)
    return families.add_member(ctx, family_id=family.id, person=details, relationships=rels)


def pointers(exc: pytest.ExceptionInfo[errors.ValidationFailedError]) -> list[str]:
    return [e["pointer"] for e in exc.value.errors]


def test_ethnicity_belongs_to_the_person_and_is_never_taken_from_a_relative(
    ctx: Context, family: Family
) -> None:
    mum = add(ctx, family, "Mum", date(1990, 1, 1))
    ethnicity.record_ethnicity(ctx, person_id=mum.id, code="WBRI", source="self")
    kid = add(ctx, family, "Kid", date(2018, 1, 1), RelationshipInput(mum.id, "child", True))
    sibling = add(ctx, family, "Sib", date(2019, 1, 1), RelationshipInput(kid.id, "sibling"))
    for person in (kid, sibling):
        assert ethnicity.current_ethnicity(person) is None
        assert ethnicity.ethnicity_status(person) == "not_yet_obtained"
        assert ethnicity.census_ethnicity(person) == "NOBT"
    members = {m.person.id: m for m in view.get_family_view(ctx, family.id).members}
    assert members[mum.id].ethnicity_status == "recorded"
    assert members[kid.id].ethnicity is None
    assert members[kid.id].ethnicity_status == "not_yet_obtained"


def test_history_is_kept_and_the_newest_record_is_current(
    ctx: Context, family: Family, clock: FakeClock
) -> None:
    kid = add(ctx, family, "Kid", date(2012, 1, 1))
    first = ethnicity.record_ethnicity(ctx, person_id=kid.id, code="NOBT", source=None)
    clock.advance(days=30)
    second = ethnicity.record_ethnicity(
        ctx,
        person_id=kid.id,
        ons2021="mixed_white_black_caribbean",
        self_description="Mixed, my dad is Jamaican",
        source="self",
    )
    assert ethnicity.current_ethnicity(kid) is second
    assert ethnicity.ethnicity_history(kid) == [second, first]
    assert (second.code, second.status, second.recorded_by) == (
        "MWBC",
        "recorded",
        ctx.actor.user_id if ctx.actor else None,
    )
    assert second.recorded_at == clock.now


def test_blended_family_members_each_keep_their_own_answer(ctx: Context, family: Family) -> None:
    mum = add(ctx, family, "Mum", date(1988, 1, 1))
    stepdad = add(
        ctx, family, "Stepdad", date(1985, 1, 1), RelationshipInput(mum.id, "step_parent")
    )
    leah = add(ctx, family, "Leah", date(2013, 1, 1), RelationshipInput(mum.id, "child", True))
    tobi = add(ctx, family, "Tobi", date(2016, 1, 1), RelationshipInput(stepdad.id, "child", True))
    maya = add(ctx, family, "Maya", date(2022, 1, 1), RelationshipInput(leah.id, "half_sibling"))
    ethnicity.record_ethnicity(ctx, person_id=mum.id, code="WIRI", source="self")
    ethnicity.record_ethnicity(
        ctx, person_id=stepdad.id, code="BAFR", source="practitioner_observed"
    )
    ethnicity.record_ethnicity(ctx, person_id=leah.id, code="MWBA", source="self")
    ethnicity.record_ethnicity(ctx, person_id=tobi.id, code="REFU", source="parent_carer")
    ethnicity.record_ethnicity(ctx, person_id=maya.id, code="NOBT", source=None)
    members = {m.person.id: m for m in view.get_family_view(ctx, family.id).members}
    got = {
        pid: (m.ethnicity.code if m.ethnicity else None, m.ethnicity_status, m.census_ethnicity)
        for pid, m in members.items()
    }
    assert got == {
        mum.id: ("WIRI", "recorded", "WIRI"),
        stepdad.id: ("BAFR", "recorded", "NOBT"),  # observed: flagged, exported as NOBT
        leah.id: ("MWBA", "recorded", "MWBA"),
        tobi.id: ("REFU", "refused", "REFU"),  # closed outcome: do not keep asking
        maya.id: ("NOBT", "not_yet_obtained", "NOBT"),  # open data-quality item
    }
    assert members[stepdad.id].ethnicity is not None
    assert members[stepdad.id].ethnicity.observed  # type: ignore[union-attr]


def test_data_quality_counts_not_obtained_apart_from_refused(ctx: Context, family: Family) -> None:
    asked = add(ctx, family, "Asked", date(2010, 1, 1))
    declined = add(ctx, family, "Declined", date(2011, 1, 1))
    add(ctx, family, "Never asked", date(2012, 1, 1))
    observed = add(ctx, family, "Observed", date(2013, 1, 1))
    ethnicity.record_ethnicity(ctx, person_id=asked.id, code="AIND", source="self")
    ethnicity.record_ethnicity(ctx, person_id=declined.id, code="REFU", source="self")
    ethnicity.record_ethnicity(
        ctx, person_id=observed.id, code="WBRI", source="practitioner_observed"
    )
    assert ethnicity.data_quality_counts(ctx) == {
        "recorded": 2,
        "refused": 1,
        "not_yet_obtained": 1,
        "observed": 1,
    }


@pytest.mark.parametrize(
    ("ons2021", "code"),
    [
        ("white_roma", "WROM"),
        ("other_arab", "OOTH"),
        ("asian_chinese", "CHNE"),
        ("white_british", "WBRI"),
        ("black_african", "BAFR"),
    ],
)
def test_the_dfe_code_is_derived_from_the_persons_own_answer(
    ctx: Context, family: Family, ons2021: str, code: str
) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    record = ethnicity.record_ethnicity(ctx, person_id=kid.id, ons2021=ons2021, source="self")
    assert (record.code, record.ons2021) == (code, ons2021)


def test_gypsy_or_irish_traveller_needs_the_dfe_code_chosen(ctx: Context, family: Family) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    category = "white_gypsy_irish_traveller"
    with pytest.raises(errors.ValidationFailedError) as exc:
        ethnicity.record_ethnicity(ctx, person_id=kid.id, ons2021=category, source="self")
    assert pointers(exc) == ["#/code"]
    with pytest.raises(errors.ValidationFailedError) as exc:
        ethnicity.record_ethnicity(
            ctx, person_id=kid.id, ons2021=category, code="WBRI", source="self"
        )
    assert pointers(exc) == ["#/code"]
    for code in ("WIRT", "WROM"):
        record = ethnicity.record_ethnicity(
            ctx, person_id=kid.id, ons2021=category, code=code, source="self"
        )
        assert record.code == code


def test_extended_codes_roll_up_to_main_codes(ctx: Context, family: Family) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    assert (
        ethnicity.record_ethnicity(ctx, person_id=kid.id, extended_code="WENG", source="self").code
        == "WBRI"
    )
    assert (
        ethnicity.record_ethnicity(ctx, person_id=kid.id, extended_code="WPOR", source="self").code
        == "WOTH"
    )
    with pytest.raises(errors.ValidationFailedError) as exc:
        ethnicity.record_ethnicity(
            ctx, person_id=kid.id, extended_code="WENG", code="WOTH", source="self"
        )
    assert pointers(exc) == ["#/extended_code"]


@pytest.mark.parametrize(
    ("args", "pointer"),
    [
        ({"code": "REFU", "source": "practitioner_observed"}, "#/source"),
        ({"code": "REFU", "source": None}, "#/source"),
        ({"code": "NOBT", "source": "self"}, "#/source"),
        ({"code": "REFU", "source": "self", "ons2021": "white_irish"}, "#/ons2021"),
        ({"code": "NOBT", "source": None, "self_description": "x"}, "#/self_description"),
        ({"code": "WBRI", "source": None}, "#/source"),
        ({"code": "WBRI", "source": "neighbour"}, "#/source"),
        (
            {"code": "WBRI", "source": "practitioner_observed", "self_description": "x"},
            "#/self_description",
        ),
        ({"code": "XXXX", "source": "self"}, "#/code"),
        ({"source": "self"}, "#/code"),
        ({"ons2021": "martian", "source": "self"}, "#/ons2021"),
        ({"extended_code": "ZZZZ", "source": "self"}, "#/extended_code"),
    ],
)
def test_ethnicity_answers_are_checked(
    ctx: Context, family: Family, args: dict[str, Any], pointer: str
) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    with pytest.raises(errors.ValidationFailedError) as exc:
        ethnicity.record_ethnicity(ctx, person_id=kid.id, **args)
    assert pointers(exc) == [pointer]
    assert ethnicity.current_ethnicity(kid) is None


def test_audit_never_holds_the_ethnicity_itself(ctx: Context, family: Family) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    record = ethnicity.record_ethnicity(
        ctx, person_id=kid.id, code="BCRB", self_description="Caribbean", source="self"
    )
    event = ctx.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "person.ethnicity_recorded")
    )
    assert event is not None
    assert (event.subject_type, event.subject_id, event.details) == (
        "person",
        str(kid.id),
        {"record_id": record.id},
    )


def test_unknown_person_is_not_found(ctx: Context) -> None:
    with pytest.raises(errors.NotFoundError):
        ethnicity.record_ethnicity(ctx, person_id=999, code="WBRI", source="self")
    with pytest.raises(errors.NotFoundError):
        disabilities.record_disabilities(ctx, person_id=999, disability_codes=["NONE"])


def test_disability_codes_follow_the_cin_rules(ctx: Context, family: Family) -> None:
    kid = add(ctx, family, "Kid", date(2014, 1, 1))
    assert disabilities.current_codes(ctx, [kid.id]) == {}
    disabilities.record_disabilities(ctx, person_id=kid.id, disability_codes=["NONE"])
    record = disabilities.record_disabilities(
        ctx, person_id=kid.id, disability_codes=["AUT", "COMM", "AUT"]
    )
    assert record.codes == ["AUT", "COMM"]
    assert disabilities.current_codes(ctx, [kid.id]) == {kid.id: ["AUT", "COMM"]}
    for codes, pointer in (
        (["NONE", "MOB"], "#/codes"),  # rule 8790
        ([], "#/codes"),
        (["MOB", "WINGS"], "#/codes/1"),
    ):
        with pytest.raises(errors.ValidationFailedError) as exc:
            disabilities.record_disabilities(ctx, person_id=kid.id, disability_codes=codes)
        assert pointers(exc) == [pointer]
    (member,) = view.get_family_view(ctx, family.id).members
    assert member.disabilities == ["AUT", "COMM"]
