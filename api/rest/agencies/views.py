"""Agencies: list (any signed-in user) and add (admins)."""

# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; the view functions themselves are fully typed)

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.common.auth import requires_role
from api.common.context import command_context
from api.rest.common import Blueprint, StrictSchema
from domain.agencies import service as agencies
from domain.agencies.models import Agency
from domain.db import unit_of_work
from domain.lanes import ADMIN, AGENCY_KINDS

bp = Blueprint("agencies", __name__, url_prefix="/agencies", description="Partner agencies")


class AgencySchema(Schema):
    """An agency."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    notification_email = fields.String(allow_none=True)
    active = fields.Boolean()


class AgencyCreateSchema(StrictSchema):
    """A new agency; `code` is the short id used in lanes, tasks and sharing records."""

    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9-]{1,39}$", error="Use 2 to 40 lower-case letters, digits or hyphens."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(sorted(AGENCY_KINDS)))
    notification_email = fields.Email(load_default=None, validate=validate.Length(max=254))


@bp.get("")
@requires_role()
@bp.response(200, AgencySchema(many=True))
def list_agencies() -> list[Agency]:
    """List active agencies by name."""
    return list(agencies.list_agencies(command_context()))


@bp.post("")
@requires_role(ADMIN)
@bp.arguments(AgencyCreateSchema)
@bp.response(201, AgencySchema)
def create_agency(payload: dict[str, Any]) -> Agency:
    """Add an agency to the partnership."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        agency = agencies.create_agency(ctx, **payload)
    return agency
