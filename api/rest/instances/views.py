"""Process instances: start, list, read, terminate."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from api.common.auth import requires_role
from api.common.context import command_context
from api.common.problems import errors_under
from api.rest.common import Blueprint, Id, Offset, StrictSchema, UserTaskSchema
from domain.db import unit_of_work
from domain.lanes import ADMIN, PRACTITIONER, PROCESS_OWNER, TEAM_MANAGER
from domain.processes import instances as instance_queries
from domain.processes import runtime
from domain.processes.models import ProcessInstance

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


@bp.post("")
@requires_role(PRACTITIONER, TEAM_MANAGER)
@bp.arguments(StartSchema)
@bp.response(201, InstanceSchema)
def start_instance(payload: dict[str, Any]) -> ProcessInstance:
    """Start a process; it runs to its first wait state in this request."""
    ctx = command_context()
    with unit_of_work(ctx.session, keep_loaded=True), errors_under("#/data"):
        instance = runtime.start_process(
            ctx, process_key=payload["process_key"], data=payload["data"]
        )
    return instance


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
    """Read an instance: status, ready tasks, completed-task history and waiting timers."""
    return runtime.get_instance(command_context(), instance_id)


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
