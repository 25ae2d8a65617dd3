"""Choices that forms take from records (`x-options-from`): agencies, a family's members and
the people who work cases.

The same lists fill the web forms and validate every submission, through the pages or the API,
so an answer can only name an agency that exists, a member of the case's household, or a
practitioner or manager who can sign in (a task assigned to anyone else could never be done).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from domain.agencies import service as agencies
from domain.agencies.models import Agency
from domain.context import Context
from domain.families import ages
from domain.families import service as families
from domain.families.models import Person

log = logging.getLogger(__name__)
Choices = dict[str, list[tuple[str, str]]]


def option_sources(schema: Mapping[str, Any] | None) -> set[str]:
    """Return every `x-options-from` source a form uses (including inside repeated rows)."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, Mapping):
            source = node.get("x-options-from")
            if isinstance(source, str):
                yield source
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    return set(walk(schema)) if schema is not None else set()


def agency_choices(ctx: Context) -> list[tuple[str, str]]:
    """Return (agency code, agency name) for every active agency, by name."""
    return [(a.code, a.name) for a in agencies.list_agencies(ctx)]


WORKER_ROLES = ("practitioner", "team_manager")


def practitioner_choices(ctx: Context) -> list[tuple[str, str]]:
    """Return (username, "Name, Agency") for every active practitioner and team manager, by
    agency then name: the people a task can be assigned to."""
    from domain.users.models import User

    rows = ctx.session.execute(
        select(User.username, User.display_name, User.roles_csv, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), Agency.active.is_(True))
        .order_by(Agency.name, User.display_name, User.username)
    ).all()
    return [
        (username, f"{name}, {agency}")
        for username, name, roles, agency in rows
        if set(roles.split(",")) & set(WORKER_ROLES)
    ]


def family_order(person: Person, today: Any) -> tuple[Any, ...]:
    """Think Family order: under-5s (the unborn first, then youngest), other children by age,
    then adults by name."""
    if ages.is_child(person, today):
        born = person.date_of_birth or person.expected_date_of_birth
        group = 0 if ages.is_under_5(person, today) else 1
        return (group, born is None, -born.toordinal() if born else 0, person.id)
    return (2, person.family_name.lower(), person.given_name.lower(), person.id)


def family_member_choices(ctx: Context, family_id: int | None) -> list[tuple[str, str]]:
    """Return (person id, "Name (age)") for every member: under-5s first, then children, adults."""
    if family_id is None:
        return []
    today = ages.local_today(ctx)
    return [
        (str(p.id), f"{p.given_name} {p.family_name} ({ages.age_label(p, today)})")
        for p in sorted(families.members_of(ctx, family_id), key=lambda p: family_order(p, today))
    ]


def dynamic_choices(
    ctx: Context, schema: Mapping[str, Any] | None, family_id: int | None
) -> Choices:
    """Return the options for every `x-options-from` a form uses (unknown sources: none)."""
    choices: Choices = {}
    for source in option_sources(schema):
        if source == "agencies":
            choices[source] = agency_choices(ctx)
        elif source == "other_agencies":  # a disagreement is with another agency
            own = ctx.actor.agency_code if ctx.actor else None
            choices[source] = [(code, name) for code, name in agency_choices(ctx) if code != own]
        elif source == "family_members":
            choices[source] = family_member_choices(ctx, family_id)
        elif source == "practitioners":
            choices[source] = practitioner_choices(ctx)
        else:
            log.warning("form uses unknown option source %s", source)
            choices[source] = []
    return choices
