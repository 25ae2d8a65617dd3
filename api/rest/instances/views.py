"""Process instances: start, list, read, terminate."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import jsonify, request
from flask.wrappers import Response
from marshmallow import RAISE, Schema, fields, validate

from api.common.auth import requires_role
from api.common.context import command_context
from api.common.problems import errors_under
from api.rest.common import Blueprint, Id, Offset, StrictSchema, UserTaskSchema
from domain import errors
from domain.context import Context
from domain.db import unit_of_work
from domain.lanes import ADMIN, PRACTITIONER, PROCESS_OWNER, TEAM_MANAGER
from domain.processes import instances as instance_queries
from domain.processes import runtime
from domain.processes.models import ProcessInstance
from domain.reports import records
from domain.submissions import service as submissions

bp = Blueprint(
    "instances", __name__, url_prefix="/process-instances", description="Process instances"
)


class StartSchema(StrictSchema):
    """Start a process."""

    process_key = fields.String(required=True, validate=validate.Length(min=1, max=80))
    data = fields.Dict(load_default=dict)


class TimerSchema(Schema):
    """A waiting timer."""

    element_id = fields.String()
    title = fields.String()
    agency_code = fields.String(
        allow_none=True,
        metadata={"description": "The agency of the task the timer is attached to, if any."},
    )
    due_at = fields.DateTime()
    status = fields.String()


_TIMER_LIST = TimerSchema(many=True)
_TASK_LIST = UserTaskSchema(many=True)  # schemas are built once: dumping keeps no state


class InstanceSchema(Schema):
    """An instance with its ready tasks."""

    id = fields.Integer()
    reference = fields.String()
    process_key = fields.String()
    version = fields.Function(lambda i: i.version.number)
    status = fields.String()
    current_stage = fields.String(allow_none=True)
    family_id = fields.Integer(allow_none=True)
    subject_person_ids = fields.List(fields.Integer())
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)
    next_timer_due_at = fields.DateTime(allow_none=True)
    lock_version = fields.Integer()
    summary = fields.Dict()
    ready_tasks = fields.Method("get_ready_tasks")

    def get_ready_tasks(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        """Ready tasks of the instance."""
        tasks = instance_queries.ready_tasks(command_context(), instance.id)
        result: list[dict[str, Any]] = _TASK_LIST.dump(tasks)
        return result


class InstanceDetailSchema(InstanceSchema):
    """An instance with its history and timers."""

    start_data = fields.Dict(
        allow_none=True,
        metadata={"description": "The answers the case was started with, as submitted."},
    )
    history = fields.Method("get_history")
    timers = fields.Method("get_timers")
    active_elements = fields.List(fields.String())
    completed_elements = fields.List(fields.String())

    def get_history(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        """Completed tasks, oldest first."""
        tasks = instance_queries.completed_tasks(command_context(), instance.id)
        result: list[dict[str, Any]] = _TASK_LIST.dump(tasks)
        return result

    def get_timers(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        """Waiting timers, soonest first."""
        result: list[dict[str, Any]] = _TIMER_LIST.dump(
            instance_queries.timers(command_context(), instance.id)
        )
        return result


class InstanceQuerySchema(StrictSchema):
    """Filters."""

    status = fields.String(
        validate=validate.OneOf(["active", "completed", "terminated", "incident"])
    )
    process_key = fields.String()
    family_id = Id()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = Offset()


class TerminateSchema(StrictSchema):
    """Why the instance is ended."""

    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces


@bp.post("")
@requires_role(PRACTITIONER, TEAM_MANAGER)
@bp.arguments(StartSchema)
@bp.response(201, InstanceSchema)
@bp.doc(
    parameters=[
        {
            "in": "header",
            "name": IDEMPOTENCY_KEY,
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "A key of your choosing, new for each case you mean to start. "
            "Resending the same request with the same key within a day (after a timeout, "
            "say) starts nothing: the answer is the case the first sending started, with "
            "`Idempotent-Replayed: true`. The same key with another body is a 422.",
        }
    ]
)
def start_instance(payload: dict[str, Any]) -> ProcessInstance | Response:
    """Start a process; it runs to its first wait state in this request."""
    ctx = command_context()
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None:
        return _start_once(ctx, key, payload)
    with unit_of_work(ctx.session, keep_loaded=True), errors_under("#/data"):
        instance = runtime.start_process(
            ctx, process_key=payload["process_key"], data=payload["data"]
        )
    return instance


def _start_once(ctx: Context, key: str, payload: dict[str, Any]) -> ProcessInstance | Response:
    """Start a process unless this key started one already (then answer with that case)."""
    if not _KEY.fullmatch(key):
        raise errors.ValidationFailedError(
            "The request is not valid.",
            [{"pointer": f"#/{IDEMPOTENCY_KEY}", "detail": "Use 1 to 255 printable characters."}],
        )
    token = hashlib.sha256(key.encode()).hexdigest()
    sent = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    fingerprint = hashlib.sha256(sent.encode()).hexdigest()
    try:
        replay = _replay(ctx, token, fingerprint)
        if replay is not None:
            return replay
        with unit_of_work(ctx.session, keep_loaded=True), errors_under("#/data"):
            instance = runtime.start_process(
                ctx, process_key=payload["process_key"], data=payload["data"]
            )
            submissions.record(ctx, token, f"/api/v1/process-instances/{instance.id}", fingerprint)
    except submissions.AlreadySentError:  # the same key at the same moment: the other won
        replay = _replay(ctx, token, fingerprint)
        if replay is None:  # pragma: no cover - the winner's row is committed before ours fails
            raise
        return replay
    return instance


def _replay(ctx: Context, token: str, fingerprint: str) -> Response | None:
    """The case an earlier request with this key started, answered as that request was."""
    earlier = submissions.earlier(ctx, token)
    if earlier is None:
        return None
    if earlier.fingerprint != fingerprint:
        raise errors.ValidationFailedError(
            "The request is not valid.",
            [
                {
                    "pointer": f"#/{IDEMPOTENCY_KEY}",
                    "detail": "This key started a case with another request: use a new key.",
                }
            ],
        )
    instance_id = int(earlier.result_path.rsplit("/", 1)[1])
    body = InstanceSchema().dump(runtime.get_instance(ctx, instance_id))
    response = jsonify(body)
    response.status_code = 201
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("")
@requires_role()
@bp.arguments(InstanceQuerySchema, location="query", unknown=RAISE)
@bp.response(200, InstanceSchema(many=True))
def list_instances(query: dict[str, Any]) -> list[ProcessInstance]:
    """List instances, newest first."""
    return list(instance_queries.list_instances(command_context(), **query))


@bp.get("/<int:instance_id>")
@bp.response(200, InstanceDetailSchema)
@requires_role()
def get_instance(instance_id: int) -> ProcessInstance:
    """Read an instance: status, its start answers, ready tasks, completed-task history and
    waiting timers. Reading the start answers is audited, as is each completed task's
    answers (`GET /tasks/{id}`)."""
    ctx = command_context()
    instance = runtime.get_instance(ctx, instance_id)
    if instance.start_data:
        with unit_of_work(ctx.session, keep_loaded=True):
            records.audit_reads(ctx, [instance.id], via="api")
    return instance


@bp.post("/<int:instance_id>/terminate")
@requires_role(TEAM_MANAGER, PROCESS_OWNER, ADMIN)
@bp.arguments(TerminateSchema)
@bp.response(200, InstanceSchema)
def terminate_instance(payload: dict[str, Any], instance_id: int) -> ProcessInstance:
    """End an instance with a recorded reason."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        instance = runtime.terminate(ctx, instance_id=instance_id, reason=payload["reason"])
    return instance
