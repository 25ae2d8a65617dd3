"""Process definitions: list, deploy a bundle, read a version, set parameters."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields

from api.common.auth import requires_role
from api.common.context import command_context
from api.rest.common import Blueprint, StrictSchema
from domain.db import unit_of_work
from domain.lanes import ADMIN, PROCESS_OWNER
from domain.processes import bundles, definitions
from domain.processes.models import ProcessDefinition, ProcessVersion

bp = Blueprint(
    "definitions", __name__, url_prefix="/process-definitions", description="Process definitions"
)


class VersionSummarySchema(Schema):
    """A version without its content."""

    number = fields.Integer()
    content_hash = fields.String()
    created_at = fields.DateTime()
    start_form = fields.String(allow_none=True)


class VersionSchema(VersionSummarySchema):
    """A version with its BPMN XML, forms, tasks and parameters."""

    key = fields.Function(lambda v: v.definition.key)
    bpmn = fields.Dict(keys=fields.String(), values=fields.String())
    forms = fields.Dict()
    tasks = fields.Dict()
    parameters = fields.Dict()
    element_names = fields.Dict()


class DefinitionSchema(Schema):
    """A process key and its versions."""

    key = fields.String()
    title = fields.String()
    latest_version = fields.Function(lambda d: d.versions[-1].number if d.versions else None)
    versions = fields.List(fields.Nested(VersionSummarySchema))


class DeployResultSchema(Schema):
    """Result of a deploy."""

    key = fields.String()
    version = fields.Integer()
    created = fields.Boolean()
    content_hash = fields.String()


class ParameterSchema(Schema):
    """A process parameter with its default and current value."""

    name = fields.String()
    default = fields.Raw(allow_none=True)
    value = fields.Raw(allow_none=True)


class ParameterUpdateSchema(StrictSchema):
    """A new value for one parameter."""

    value = fields.Raw(required=True, allow_none=False)


@bp.get("")
@bp.response(200, DefinitionSchema(many=True))
@requires_role()
def list_definitions() -> list[ProcessDefinition]:
    """List process definitions and their versions."""
    return list(definitions.list_definitions(command_context()))


def _read_bundle() -> tuple[str | None, dict[str, bytes], dict[str, bytes]]:
    uploads = request.files.getlist("files") + request.files.getlist("file")
    bundles.check_file_count(len(uploads))  # before any is read
    bpmn, forms = bundles.sort_uploads([(u.filename or "", u.read()) for u in uploads])
    key = request.form.get("key") or None
    return key, bpmn, forms


@bp.post("")
@bp.response(201, DeployResultSchema)
@bp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            }
        }
    },
)
@bp.problem_response(422, "The bundle has problems (each with its element, line and message)")
@requires_role(PROCESS_OWNER, ADMIN)
def deploy_definition() -> tuple[dict[str, Any], int]:
    """Deploy a bundle (BPMN files plus the JSON Schema forms they name) as a new version."""
    key, bpmn, forms = _read_bundle()
    ctx = command_context()
    with unit_of_work(ctx.session):
        version, created = definitions.deploy(ctx, key=key, bpmn_files=bpmn, forms=forms)
        result = {
            "key": version.definition.key,
            "version": version.number,
            "created": created,
            "content_hash": version.content_hash,
        }
    return result, 201 if created else 200


@bp.get("/<key>")
@bp.response(200, DefinitionSchema)
@requires_role()
def get_definition(key: str) -> ProcessDefinition:
    """Read one process definition."""
    return definitions.get_definition(command_context(), key)


@bp.get("/<key>/versions/<int:number>")
@bp.response(200, VersionSchema)
@requires_role()
def get_version(key: str, number: int) -> ProcessVersion:
    """Read one version, including its BPMN XML."""
    return definitions.get_version(command_context(), key, number)


@bp.get("/<key>/parameters")
@bp.response(200, ParameterSchema(many=True))
@requires_role()
def list_parameters(key: str) -> list[dict[str, Any]]:
    """List the parameters the latest version reads, with defaults and current values."""
    ctx = command_context()
    version = definitions.latest_version(ctx, key)
    values = definitions.parameters_for(ctx, version)
    return [
        {"name": name, "default": default, "value": values.get(name)}
        for name, default in sorted((version.parameters or {}).items())
    ]


@bp.put("/<key>/parameters/<name>")
@requires_role(PROCESS_OWNER)
@bp.arguments(ParameterUpdateSchema)
@bp.response(200, ParameterSchema)
def set_parameter(payload: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    """Change a parameter (e.g. an escalation stage's working-day limit) without code."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        version = definitions.latest_version(ctx, key)
        value = definitions.set_parameter(ctx, key=key, name=name, value=payload["value"])
        result = {"name": name, "default": version.parameters.get(name), "value": value}
    return result
