"""Agency records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from domain import errors
from domain.agencies.models import Agency
from domain.context import Context
from domain.db import first_writer_wins
from domain.lanes import AGENCY_KINDS


def list_agencies(ctx: Context) -> Sequence[Agency]:
    """List active agencies by name."""
    return ctx.session.scalars(
        select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)
    ).all()


def names_by_code(ctx: Context) -> dict[str, str]:
    """Map every agency's code to its name (one query). Agencies no longer active are kept:
    work and records they did still name them."""
    rows = ctx.session.execute(select(Agency.code, Agency.name))
    return {code: name for code, name in rows}


def names_by_id(ctx: Context, agency_ids: Iterable[int | None]) -> dict[int, str]:
    """Map agency ids to names (one query)."""
    ids = sorted({i for i in agency_ids if i is not None})
    if not ids:
        return {}
    rows = ctx.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids)))
    return {agency_id: name for agency_id, name in rows}


def find_agency(ctx: Context, code: str) -> Agency | None:
    """Return an agency by code, or None."""
    return ctx.session.scalar(select(Agency).where(Agency.code == code))


def get_agency(ctx: Context, code: str) -> Agency:
    """Return an agency by code or raise NotFoundError."""
    agency = find_agency(ctx, code)
    if agency is None:
        raise errors.NotFoundError("No agency with that code.")
    return agency


def create_agency(
    ctx: Context, *, code: str, name: str, kind: str, notification_email: str | None = None
) -> Agency:
    """Add an agency to the partnership."""
    if kind not in AGENCY_KINDS:
        raise errors.ValidationFailedError(
            "Unknown agency kind.",
            [{"pointer": "#/kind", "detail": "Use one of: " + ", ".join(sorted(AGENCY_KINDS))}],
        )
    taken = errors.ConflictError("An agency with that code exists.")
    if find_agency(ctx, code) is not None:
        raise taken
    agency = Agency(code=code, name=name, kind=kind, notification_email=notification_email)
    ctx.session.add(agency)
    with first_writer_wins(taken):
        ctx.session.flush()
    return agency
