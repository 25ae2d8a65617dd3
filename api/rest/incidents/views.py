"""Timer incidents: timers that stopped after repeated failures, and manual retry."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.common.auth import requires_role
from api.common.context import command_context
from api.rest.common import Blueprint, Offset, StrictSchema
from domain.db import unit_of_work
from domain.lanes import ADMIN, PROCESS_OWNER, TEAM_MANAGER
from domain.processes.models import TimerRow
from domain.timers import incidents

bp = Blueprint("incidents", __name__, url_prefix="/incidents", description="Timer incidents")


class IncidentQuerySchema(StrictSchema):
    """Paging."""

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = Offset()


class IncidentSchema(Schema):
    """A timer in incident: ids, element and error type only, never case data."""

    timer_id = fields.Integer()
    instance_id = fields.Integer()
    reference = fields.String(allow_none=True)
    process_key = fields.String()
    element_id = fields.String()
    title = fields.String()
    due_at = fields.DateTime()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class RetriedSchema(Schema):
    """A timer made due again."""

    timer_id = fields.Integer(attribute="id")
    instance_id = fields.Integer()
    element_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    due_at = fields.DateTime()


@bp.get("")
@bp.arguments(IncidentQuerySchema, location="query")
@bp.response(200, IncidentSchema(many=True))
@requires_role(TEAM_MANAGER, PROCESS_OWNER, ADMIN)
def list_incidents(query: dict[str, Any]) -> list[incidents.Incident]:
    """List timers that stopped after repeated failures, oldest due first."""
    return list(incidents.list_incidents(command_context(), **query))


@bp.post("/<int:timer_id>/retry")
@bp.response(200, RetriedSchema)
@requires_role(PROCESS_OWNER, ADMIN)
def retry_incident(timer_id: int) -> TimerRow:
    """Reset the attempts of an incident's timers and make them due now."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        row = incidents.retry(ctx, timer_id=timer_id)
    return row
