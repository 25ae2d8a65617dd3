"""Schemas shared by several REST areas."""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from flask_smorest.utils import resolve_schema_instance
from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate
from webargs.flaskparser import FlaskParser, is_json_request

from api.common.inputs import MAX_ID, UnsupportedBodyError, parse_json
from api.common.problems import PROBLEM_MIMETYPE


class GuardedParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through the input guards.

    A body sent as another type (a form, say) is refused rather than read as `{}`: its fields
    would be silently dropped. No body at all is an empty object, as webargs reads it.
    """

    def _raw_load_json(self, req: flask.Request) -> Any:
        data = req.get_data(cache=True)  # empty once a form body has been parsed
        if not is_json_request(req):
            if data or req.content_length or req.form or req.files:
                raise UnsupportedBodyError("Send the request body as application/json.")
            return missing
        return parse_json(data) if data else missing

    def load_querystring(self, req: flask.Request, schema: Schema) -> Any:
        """The query string; a parameter that takes one value but is given twice is an error.

        webargs would keep the first and drop the rest, so `?status=active&status=ended` would
        list only active cases without a word.
        """
        proxy = super().load_querystring(req, schema)
        single = {f.data_key or name for name, f in schema.fields.items()} - proxy.multiple_keys
        repeated = [key for key in req.args if key in single and len(req.args.getlist(key)) > 1]
        if repeated:
            raise ValidationError({key: ["Give this parameter once."] for key in repeated})
        return proxy


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A REST blueprint whose arguments are parsed with the input guards."""

    ARGUMENTS_PARSER = GuardedParser()

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        """As flask-smorest's, but a JSON body is documented as required only when it must be.

        No body at all reads as an empty object, which a schema with no required field
        accepts (an empty PATCH changes nothing, say).
        """
        if location == "json" and "required" not in kwargs:
            fields_of = resolve_schema_instance(schema).fields.values()
            kwargs["required"] = any(field.required for field in fields_of)
        return super().arguments(schema, location=location, **kwargs)

    def problem_response(self, status: int, description: str) -> Any:
        """Document an error an operation answers with on purpose, as the problem it is."""
        return self.alt_response(
            status, schema=ProblemSchema, content_type=PROBLEM_MIMETYPE, description=description
        )


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads as a field type
    """A record id: a positive integer that fits the id columns."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Offset() -> fields.Integer:  # noqa: N802 - reads as a field type
    """How many rows of a list to skip."""
    return fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class Flag(fields.Boolean):
    """A JSON `true` or `false`, nothing else: 0, 1 or "yes" is an error, as in task forms.

    A recorded decision (shared or not, parental responsibility or not) must be what the
    client meant, not marshmallow's reading of a number or a word.
    """

    default_error_messages = {"invalid": "Use true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictSchema(Schema):
    """Unknown fields are errors."""

    class Meta:
        unknown = RAISE


class FieldErrorSchema(Schema):
    """One invalid part of a request: where it is (JSON Pointer) and what is wrong."""

    pointer = fields.String(required=True, metadata={"example": "#/data/concern_level"})
    field = fields.String(metadata={"description": "The form field, for task form data."})
    detail = fields.String(required=True)


class DiagramProblemSchema(Schema):
    """One thing a process owner must fix in an uploaded bundle."""

    element_id = fields.String(allow_none=True, required=True)
    element_name = fields.String(
        allow_none=True, metadata={"description": "The element's name in the diagram, if any."}
    )
    line = fields.Integer(allow_none=True, required=True)
    file = fields.String(allow_none=True, metadata={"description": "The bundle file it is in."})
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """An RFC 9457 problem: the body of every error response."""

    type = fields.String(required=True, metadata={"example": "/problems/invalid-body"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable."})
    errors = fields.List(
        fields.Nested(FieldErrorSchema), metadata={"description": "Each invalid field."}
    )
    problems = fields.List(
        fields.Nested(DiagramProblemSchema),
        metadata={"description": "What to fix in a refused process bundle."},
    )


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
