"""Resolve an outbox row's addressee (a user, a role in an agency, or an agency) to emails."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from domain.agencies.models import Agency
from domain.context import Context
from domain.lanes import LANES, ROLES
from domain.users.models import User


def resolve_recipients(
    ctx: Context,
    *,
    username: str | None = None,
    agency_code: str | None = None,
    role: str | None = None,
) -> list[str]:
    """Return the addresses to notify, without duplicates.

    A username means that user's email. An agency and a role mean the emails of the agency's
    active users with that role (a lane name stands for its roles), or the agency's notification
    address when there are none. An agency alone means its notification address. When a named
    user has no usable address and an agency is given, the agency rules apply instead.
    """
    if username:
        addresses = _user_addresses(ctx, username)
        if addresses or not agency_code:
            return addresses
    if not agency_code:
        return []
    agency = ctx.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None or not agency.active:
        return []
    if role:
        addresses = _role_addresses(ctx, agency, role)
        if addresses:
            return addresses
    return _unique([agency.notification_email])


def _user_addresses(ctx: Context, username: str) -> list[str]:
    user = ctx.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        return []
    return _unique([user.email])


def _role_addresses(ctx: Context, agency: Agency, role: str) -> list[str]:
    wanted = _roles_for(role)
    users = ctx.session.scalars(
        select(User).where(User.agency_id == agency.id, User.active.is_(True)).order_by(User.id)
    )
    return _unique(user.email for user in users if user.roles & wanted)


def _roles_for(role: str) -> frozenset[str]:
    if role in ROLES:
        return frozenset({role})
    lane = LANES.get(role)
    return lane.roles if lane is not None else frozenset()


def _unique(addresses: Iterable[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        cleaned = (address or "").strip()
        if cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())
