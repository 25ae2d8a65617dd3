"""The fictional demo families (names invented; any likeness is chance), built through services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.context import Context
from domain.demo_processes import ProcessPlan
from domain.families import consent, disabilities, ethnicity
from domain.families import service as families
from domain.families.ages import local_today
from domain.families.models import Family

LAWFUL_BASIS = "UK GDPR 6(1)(e); DPA 2018 Sch.1 para 18"


@dataclass(frozen=True)
class MemberSpec:
    """A demo person: an age in years, or days until the due date (unborn)."""

    key: str
    given_name: str
    family_name: str
    sex: str
    age: int | None = None
    due_in_days: int | None = None
    ethnicity: Mapping[str, Any] | None = None
    """Arguments for record_ethnicity; None leaves it not yet obtained."""
    disabilities: tuple[str, ...] = ()
    relationships: tuple[tuple[str, str, bool], ...] = ()
    """(earlier member's key, what this member is of them, parental responsibility)."""


@dataclass(frozen=True)
class FamilySpec:
    """A demo household with its consents, sharing decisions and processes."""

    reference: str
    name: str
    members: tuple[MemberSpec, ...]
    consents: tuple[Mapping[str, Any], ...] = ()
    sharing: tuple[Mapping[str, Any], ...] = ()
    plans: tuple[ProcessPlan, ...] = field(default=())


def _said(code: str, source: str = "parent_carer", **more: Any) -> dict[str, Any]:
    return {"code": code, "source": source, **more}


def _child(key: str, name: str, sex: str, age: int, *siblings: str) -> MemberSpec:
    rels = (
        ("mum", "child", True),
        ("dad", "child", True),
        *((s, "sibling", False) for s in siblings),
    )
    return MemberSpec(
        key, name, "Ashdown", sex, age=age, ethnicity=_said("WBRI"), relationships=rels
    )


_OLDER = ("c1", "c2", "c3", "c4", "c5", "c6")
SIBLING_GROUP = FamilySpec(
    reference="DEMO-0001",
    name="Ashdown household (large sibling group)",
    members=(
        MemberSpec("mum", "Sarah", "Ashdown", "F", age=34, ethnicity=_said("WBRI", "self")),
        MemberSpec("dad", "Mark", "Ashdown", "M", age=37, ethnicity=_said("WIRI", "self")),
        _child("c1", "Liam", "M", 14),
        _child("c2", "Chloe", "F", 12, *_OLDER[:1]),
        _child("c3", "Jack", "M", 10, *_OLDER[:2]),
        _child("c4", "Ella", "F", 8, *_OLDER[:3]),
        _child("c5", "Noah", "M", 3, *_OLDER[:4]),
        _child("c6", "Poppy", "F", 1, *_OLDER[:5]),
        MemberSpec(
            "unborn",
            "Baby",
            "Ashdown",
            "U",
            due_in_days=80,
            relationships=(("mum", "child", False), *((s, "sibling", False) for s in _OLDER)),
        ),
    ),
    consents=(
        {
            "scope": "refer",
            "status": "not_sought",
            "not_sought_reason": "Concern of significant harm: asking first could raise the risk.",
        },
    ),
    sharing=(
        {
            "shared": True,
            "information": "School attendance, presentation and welfare concerns.",
            "recipients": ["csc", "police", "health"],
            "purpose": "Strategy discussion about possible significant harm to the children.",
            "lawful_basis": LAWFUL_BASIS,
            "consent_status": "not_required_risk_of_harm",
        },
    ),
    plans=(
        ProcessPlan("referral", starter="teacher1", tasks=3),
        ProcessPlan(
            "mdt_meeting",
            starter="health1",
            tasks=2,
            start={"invited_agencies": ["csc", "police", "school-a", "school-b"]},
            answers={"respond_to_invitation": {"response": "accepted"}},
            skip=("record_meeting",),
        ),
    ),
)

BLENDED = FamilySpec(
    reference="DEMO-0002",
    name="Clarke-Okafor household (blended family)",
    members=(
        MemberSpec("mum", "Amira", "Clarke", "F", age=33, ethnicity=_said("MWBC", "self")),
        MemberSpec(
            "stepdad",
            "Daniel",
            "Okafor",
            "M",
            age=38,
            ethnicity={"code": "BAFR", "source": "practitioner_observed"},
        ),
        MemberSpec(
            "leah",
            "Leah",
            "Clarke",
            "F",
            age=13,
            ethnicity=_said("WIRI", "self", ons2021="white_irish", self_description="Irish"),
            relationships=(("mum", "child", True), ("stepdad", "step_child", False)),
        ),
        MemberSpec(
            "tobi",
            "Tobi",
            "Okafor",
            "M",
            age=10,
            ethnicity={"code": "REFU", "source": "parent_carer"},
            relationships=(
                ("stepdad", "child", True),
                ("mum", "step_child", False),
                ("leah", "step_sibling", False),
            ),
        ),
        MemberSpec(
            "maya",
            "Maya",
            "Okafor",
            "F",
            age=4,
            ethnicity={"code": "NOBT", "source": None},
            relationships=(
                ("mum", "child", True),
                ("stepdad", "child", True),
                ("leah", "half_sibling", False),
                ("tobi", "half_sibling", False),
            ),
        ),
    ),
    consents=(
        {"scope": "taf", "status": "given", "given_by": "mum", "method": "written", "days_ago": 3},
    ),
    plans=(
        ProcessPlan(
            "early_help",
            starter="eh1",
            tasks=3,
            start={"route": "early_help", "origin": "family_request"},
            answers={
                "early_help_identify_needs": {
                    "asked_by": "family",
                    "needs": "Parenting support after a house move; school attendance.",
                    "safeguarding_concern": False,
                    "level": "level_3",
                    "level_rationale": "Several agencies involved; complex needs.",
                }
            },
        ),
        ProcessPlan(
            "escalation",
            starter="police1",
            tasks=1,
            start={"responding_agency": "csc", "category": "referral_decision"},
        ),
    ),
)

DISABLED_CHILD = FamilySpec(
    reference="DEMO-0003",
    name="Price household (disabled child)",
    members=(
        MemberSpec("mum", "Joanne", "Price", "F", age=41, ethnicity=_said("WBRI", "self")),
        MemberSpec(
            "ethan",
            "Ethan",
            "Price",
            "M",
            age=9,
            ethnicity=_said("WBRI"),
            disabilities=("AUT", "COMM", "LD"),
            relationships=(("mum", "child", True),),
        ),
        MemberSpec(
            "ruby",
            "Ruby",
            "Price",
            "F",
            age=6,
            ethnicity=_said("WBRI"),
            disabilities=("NONE",),
            relationships=(("mum", "child", True), ("ethan", "sibling", False)),
        ),
    ),
    consents=(
        {"scope": "share", "status": "given", "given_by": "mum", "method": "verbal", "days_ago": 1},
    ),
    sharing=(
        {
            "shared": True,
            "information": "Short breaks and school support needs.",
            "recipients": ["health", "school-a"],
            "purpose": "Plan support for a disabled child across health and school.",
            "lawful_basis": "UK GDPR 6(1)(e); 9(2)(g); DPA 2018 Sch.1 para 6",
            "consent_status": "given",
        },
    ),
    plans=(
        ProcessPlan("referral", starter="health1", tasks=1),
        ProcessPlan(
            "early_help",
            starter="teacher1",
            tasks=0,
            start={"route": "disabled_child_support", "origin": "practitioner"},
        ),
    ),
)

FAMILIES = (SIBLING_GROUP, BLENDED, DISABLED_CHILD)


def _born(today: date, age: int) -> date:
    return today - timedelta(days=int(age * 365.25) + 45)


def create_demo_family(ctx: Context, spec: FamilySpec) -> Family:
    """Create one demo family with its members, ethnicity, disabilities, consent and sharing."""
    today = local_today(ctx)
    family = families.create_family(ctx, name=spec.name, reference=spec.reference)
    ids: dict[str, int] = {}
    for member in spec.members:
        details = families.PersonDetails(
            given_name=member.given_name,
            family_name=member.family_name,
            sex=member.sex,
            date_of_birth=_born(today, member.age) if member.age is not None else None,
            expected_date_of_birth=(
                today + timedelta(days=member.due_in_days) if member.due_in_days else None
            ),
        )
        relationships = [
            families.RelationshipInput(ids[k], r, pr) for k, r, pr in member.relationships
        ]
        person = families.add_member(
            ctx, family_id=family.id, person=details, relationships=relationships
        )
        ids[member.key] = person.id
        if member.ethnicity is not None:
            ethnicity.record_ethnicity(ctx, person_id=person.id, **member.ethnicity)
        if member.disabilities:
            disabilities.record_disabilities(
                ctx, person_id=person.id, disability_codes=member.disabilities
            )
    for item in spec.consents:
        _consent(ctx, family.id, dict(item), ids, today)
    for item in spec.sharing:
        consent.record_information_sharing(ctx, family_id=family.id, **item)
    return family


def _consent(
    ctx: Context, family_id: int, item: dict[str, Any], ids: Mapping[str, int], today: date
) -> None:
    giver = item.pop("given_by", None)
    days_ago = item.pop("days_ago", None)
    consent.record_consent(
        ctx,
        family_id=family_id,
        given_by_person_id=ids[giver] if giver else None,
        obtained_on=today - timedelta(days=days_ago) if days_ago is not None else None,
        **item,
    )
