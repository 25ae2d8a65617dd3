"""Schemas shared by several REST areas."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields


class StrictSchema(Schema):
    """Unknown fields are errors."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """An RFC 9457 problem."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.List(fields.Dict())
    problems = fields.List(fields.Dict())


class UserTaskSchema(Schema):
    """A task row as the API shows it."""

    id = fields.Integer()
    instance_id = fields.Integer()
    reference = fields.Function(lambda t: t.instance.reference)
    process_key = fields.Function(lambda t: t.instance.process_key)
    element_id = fields.String()
    title = fields.String()
    lane = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)
    agency_code = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    claimed_by = fields.Integer(allow_none=True)
    completed_by = fields.Integer(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
