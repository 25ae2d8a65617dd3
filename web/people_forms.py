"""The add and edit person form of the family pages, as a form schema for web/formrender.py.

The schemas are built here (not in forms/) because their questions depend on the household:
one "relationship to ..." question per other member. Answers are turned into the arguments of
the domain services in domain/families, and the services' validation errors back into field
errors for the error summary. The ethnicity form is in web/ethnicity_form.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from domain.db import record_id
from domain.errors import ValidationFailedError
from domain.families import codes
from domain.families.history import TimelineEntry
from domain.families.models import Person
from domain.families.service import PersonDetails
from domain.families.view import RelationView
from domain.forms import FieldError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PERSON_FIELDS = {
    name: name
    for name in (
        "given_name",
        "family_name",
        "sex",
        "date_of_birth",
        "expected_date_of_birth",
        "is_child",
        "parental_responsibility",
    )
}
"""Domain pointer names that are questions of the person form."""
RELATIONSHIP_LABELS: dict[str, str] = {
    codes.PARENT: "Parent",
    "child": "Child",
    codes.STEP_PARENT: "Step-parent",
    "step_child": "Step-child",
    codes.OTHER_CARER: "Other carer (for example a grandparent or kinship carer)",
    "cared_for_child": "Child they care for",
    codes.SIBLING: "Sibling",
    codes.HALF_SIBLING: "Half-sibling",
    codes.STEP_SIBLING: "Step-sibling",
}


DETAIL_LABELS: dict[str, str] = {
    "given_name": "first name",
    "family_name": "last name",
    "sex": "sex",
    "date_of_birth": "date of birth",
    "expected_date_of_birth": "expected date of birth",
    "is_child": "child or adult",
}
"""How each person detail reads when the timeline says which ones changed."""

CONSENT_STATUS_LABELS: dict[str, str] = {
    codes.CONSENT_GIVEN: "given",
    codes.CONSENT_REFUSED: "refused",
    codes.CONSENT_NOT_SOUGHT: "not sought",
}

TIMELINE_SHOW_LABELS: dict[str, str] = {
    "all": "Everything",
    "processes": "Processes and tasks",
    "records": "Changes to the family record",
}
"""The timeline's filters (keys of `history.TIMELINE_SHOWS`), as the family page offers them."""


def timeline_text(entry: TimelineEntry, people: Mapping[int, Person]) -> str:
    """What a timeline entry says: what happened, and to whom, by name."""

    def name(person_id: int) -> str:
        person = people.get(person_id)
        return person_name(person) if person is not None else "a person"

    if entry.person_id is None:
        if entry.action == "family.consent_recorded" and entry.status in CONSENT_STATUS_LABELS:
            return f"{entry.title}: {CONSENT_STATUS_LABELS[entry.status]}"
        return entry.title
    if entry.other_person_id is not None and entry.relationship:
        label = relationship_label(entry.relationship).lower()
        verb = "was" if entry.action == "person.relationship_removed" else "is"
        other = name(entry.other_person_id)
        return f"{entry.title}: {name(entry.person_id)} {verb} {other}'s {label}"
    if entry.changed:
        changed = ", ".join(DETAIL_LABELS.get(f, f.replace("_", " ")) for f in entry.changed)
        return f"{entry.title}: {name(entry.person_id)} ({changed})"
    return f"{entry.title}: {name(entry.person_id)}"


NOT_RELATED = "none"
"""The relationship questions' answer for "not related" (blank means not answered)."""

EITHER_WAY: dict[str, str] = {
    **codes.INVERSE,
    **{inverse: kind for kind, inverse in codes.INVERSE.items()},
}
"""Each relationship kind's inverse, both ways round (a sibling's is sibling)."""


def person_name(person: Person) -> str:
    """Return a person's full name."""
    return f"{person.given_name} {person.family_name}"


def relationship_label(kind: str) -> str:
    """Return how a relationship kind reads on a page ("Step-parent")."""
    return RELATIONSHIP_LABELS.get(kind, kind.replace("_", " ").capitalize()).split(" (")[0]


def _date_question(title: str, hint: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "title": title, "description": hint}


FAMILY_FIELDS = {"name": "name", "reference": "reference"}
"""Domain pointer names that are questions of the add family form."""


def family_schema() -> dict[str, Any]:
    """The add family form: a household name and, optionally, another system's reference."""
    return {
        "$schema": DIALECT,
        "type": "object",
        "title": "Family",
        "properties": {
            "name": {
                "type": "string",
                "title": "Household name",
                "description": "How colleagues will recognise the household, for example "
                "Ashdown household or 14 Mill Lane.",
                "maxLength": 100,  # one line (the record takes 200; longer is a textarea here)
                "x-error-messages": {"required": "Enter a household name"},
            },
            "reference": {
                "type": "string",
                "title": "Reference (optional)",
                "description": "Only if the family already has a reference in another system, "
                "for example LCS-48213: capital letters, digits and hyphens. Leave it blank "
                "and ThinkFamily gives one, such as FAM-000123.",
                "maxLength": 20,
            },
        },
        "required": ["name"],
    }


LEFT_FIELDS = {"left_on": "left_on", "reason": "reason"}
"""Domain pointer names that are questions of the "has left the household" form."""


def left_schema() -> dict[str, Any]:
    """The form recording that a member has left the household: when and, optionally, why."""
    return {
        "$schema": DIALECT,
        "type": "object",
        "title": "Left the household",
        "properties": {
            "left_on": {
                **_date_question(
                    "When did they leave?",
                    "For example, 27 3 2026. If you do not know the day, enter the first of the "
                    "month.",
                ),
                "x-error-messages": {"required": "Enter the day they left"},
            },
            "reason": {
                "type": "string",
                "title": "Why did they leave? (optional)",
                "description": "For example, moved to live with their father, or the "
                "relationship ended.",
                "maxLength": 200,
            },
        },
        "required": ["left_on"],
    }


def person_schema(others: Sequence[Person] = ()) -> dict[str, Any]:
    """The add or edit person form; `others` are the members to ask a relationship to."""
    properties: dict[str, Any] = {
        "given_name": {"type": "string", "title": "First name", "maxLength": 100},
        "family_name": {"type": "string", "title": "Last name", "maxLength": 100},
        "date_of_birth": _date_question(
            "Date of birth",
            "For example, 27 3 2019. Leave this blank for an unborn child or if it is not known.",
        ),
        "expected_date_of_birth": _date_question(
            "Expected date of birth (unborn child)",
            "Only for a child who is not born yet. For example, 14 6 2027.",
        ),
        "sex": {
            "type": "string",
            "title": "Sex",
            "enum": list(codes.SEXES),
            "x-enum-labels": list(codes.SEXES.values()),
            "x-error-messages": {"required": "Select the person's sex"},
        },
        "is_child": {
            "type": "string",
            "title": "Is this person a child or an adult?",
            "description": "Only needed when neither date is known.",
            "enum": ["child", "adult"],
            "x-enum-labels": ["Child (under 18)", "Adult"],
        },
    }
    kinds = [*RELATIONSHIP_LABELS, NOT_RELATED]
    for other in others:
        properties[f"relationship_{other.id}"] = {
            "type": "string",
            "title": f"What is this person to {person_name(other)}?",
            "description": "Choose Not related if they are not, or to remove a relationship "
            "recorded in error.",
            "enum": kinds,
            "x-enum-labels": [RELATIONSHIP_LABELS.get(k, "Not related") for k in kinds],
            "x-widget": "select",
        }
    if others:
        properties["parental_responsibility"] = {
            "type": "array",
            "title": "Parental responsibility",
            "description": "Select each person where the parent or carer in the relationship "
            "has parental responsibility.",
            "items": {
                "type": "string",
                "enum": [str(o.id) for o in others],
                "x-enum-labels": [person_name(o) for o in others],
            },
            "uniqueItems": True,
        }
    return {
        "$schema": DIALECT,
        "type": "object",
        "title": "Person",
        "properties": properties,
        "required": ["given_name", "family_name", "sex"],
    }


def person_values(person: Person) -> dict[str, Any]:
    """The edit form's starting answers."""
    values: dict[str, Any] = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "sex": person.sex,
        "date_of_birth": person.date_of_birth,
        "expected_date_of_birth": person.expected_date_of_birth,
    }
    if person.recorded_is_child is not None:
        values["is_child"] = "child" if person.recorded_is_child else "adult"
    return values


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def person_details(data: Mapping[str, Any]) -> PersonDetails:
    """Turn checked answers into the domain's PersonDetails."""
    is_child = data.get("is_child")
    return PersonDetails(
        given_name=str(data["given_name"]),
        family_name=str(data["family_name"]),
        sex=str(data["sex"]),
        date_of_birth=_date(data.get("date_of_birth")),
        expected_date_of_birth=_date(data.get("expected_date_of_birth")),
        is_child=None if is_child is None else is_child == "child",
    )


def person_changes(data: Mapping[str, Any]) -> dict[str, Any]:
    """Turn checked answers into update_person's changes (every field, blanks as None)."""
    details = person_details(data)
    return {
        "given_name": details.given_name,
        "family_name": details.family_name,
        "sex": details.sex,
        "date_of_birth": details.date_of_birth,
        "expected_date_of_birth": details.expected_date_of_birth,
        "is_child": details.is_child,
    }


def chosen_relationships(data: Mapping[str, Any]) -> list[tuple[int, str, bool]]:
    """Return (other person id, relationship, parental responsibility) for each answer given."""
    return [
        (other, answer[0], answer[1])
        for other, answer in relationship_answers(data).items()
        if answer is not None
    ]


def relationship_answers(data: Mapping[str, Any]) -> dict[int, tuple[str, bool] | None]:
    """Each relationship question answered: (relationship, parental responsibility), or None
    for "not related". Questions left blank are left out."""
    holders = {record_id(v) for v in data.get("parental_responsibility") or []}
    found: dict[int, tuple[str, bool] | None] = {}
    for name, value in data.items():
        other = record_id(name.removeprefix("relationship_"))
        if name.startswith("relationship_") and value and other is not None:
            found[other] = None if value == NOT_RELATED else (str(value), other in holders)
    return found


def recorded_answers(relations: Sequence[RelationView]) -> dict[int, tuple[str, bool]]:
    """What the relationship questions would say of the relationships recorded: for each
    other person, what this person is to them, and whether responsibility is held."""
    return {
        rel.person_id: (EITHER_WAY[rel.relationship], rel.parental_responsibility)
        for rel in relations
    }


def relationship_values(recorded: Mapping[int, tuple[str, bool]]) -> dict[str, Any]:
    """The person form's starting answers for relationships already recorded."""
    values: dict[str, Any] = {
        f"relationship_{other}": kind for other, (kind, _) in recorded.items()
    }
    values["parental_responsibility"] = [str(o) for o, (_, holds) in recorded.items() if holds]
    return values


def field_errors(
    error: ValidationFailedError, fields: Mapping[str, str], default: str
) -> list[FieldError]:
    """Turn a domain validation error into field errors on this form.

    `fields` maps the last part of a domain pointer (e.g. "date_of_birth") to the form's field;
    anything else is reported against `default`.
    """
    found = []
    for item in error.errors:
        pointer = str(item.get("pointer", ""))
        parts = pointer.strip("#/").split("/")
        name = next((fields[p] for p in reversed(parts) if p in fields), default)
        message = str(item.get("detail", "Check this answer")).rstrip(".")
        found.append(FieldError(pointer, name, message))
    return found


def responsibility_errors(
    data: Mapping[str, Any], chosen: list[tuple[int, str, bool]], others: Sequence[Person]
) -> list[FieldError]:
    """Refuse parental responsibility ticked for someone with no relationship chosen."""
    related = {other for other, _kind, _holds in chosen}
    for other in others:
        if str(other.id) in (data.get("parental_responsibility") or []) and other.id not in related:
            message = (
                f"Select what this person is to {person_name(other)} "
                "before giving parental responsibility"
            )
            return [FieldError("#/parental_responsibility", "parental_responsibility", message)]
    return []


def member_errors(
    error: ValidationFailedError, chosen: list[tuple[int, str, bool]]
) -> list[FieldError]:
    """Map add_member's errors to the form, relationship errors to their member's question."""
    found = field_errors(error, PERSON_FIELDS, "given_name")
    for index, item in enumerate(error.errors):
        parts = str(item.get("pointer", "")).strip("#/").split("/")
        if parts[0] == "relationships" and len(parts) > 1 and parts[1].isdigit():
            position = int(parts[1])
            if position < len(chosen) and parts[-1] != "parental_responsibility":
                old = found[index]
                found[index] = FieldError(
                    old.pointer, f"relationship_{chosen[position][0]}", old.message
                )
    return found
