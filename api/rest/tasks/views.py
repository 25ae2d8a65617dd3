"""Tasks: inbox, read with form schema, complete, claim and release."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, fields, validate

from api.common.auth import requires_role
from api.common.context import command_context
from api.common.inputs import MAX_ID
from api.common.problems import errors_under
from api.rest.common import Blueprint, Id, Offset, StrictSchema, UserTaskSchema
from api.rest.instances.views import InstanceSchema
from domain import errors
from domain.db import unit_of_work
from domain.processes import runtime
from domain.processes import tasks as task_service
from domain.processes.models import HumanTask
from domain.reports import records

bp = Blueprint("tasks", __name__, url_prefix="/tasks", description="User tasks")


class TaskQuerySchema(StrictSchema):
    """Inbox filters."""

    state = fields.String(
        load_default="ready", validate=validate.OneOf(["ready", "completed", "cancelled", "any"])
    )
    lane = fields.String()
    role = fields.String()
    instance = Id()
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "agency", "all"]))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = Offset()


class TaskDetailSchema(UserTaskSchema):
    """A task with its form's JSON Schema."""

    form_schema = fields.Method("get_form_schema")
    data = fields.Dict(allow_none=True)
    instance_lock_version = fields.Function(lambda t: t.instance.lock_version)

    def get_form_schema(self, task: HumanTask) -> dict[str, Any] | None:
        """The form's JSON Schema from the instance's pinned version."""
        if not task.form_key:
            return None
        schema: dict[str, Any] | None = task.instance.version.forms.get(task.form_key)
        return schema


class CompleteSchema(StrictSchema):
    """Form data for a task."""

    data = fields.Dict(load_default=dict)
    instance_lock_version = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))


@bp.get("")
@requires_role()
@bp.arguments(TaskQuerySchema, location="query", unknown=RAISE)
@bp.response(200, UserTaskSchema(many=True))
def list_tasks(query: dict[str, Any]) -> list[HumanTask]:
    """List tasks; by default the ready tasks for my roles and agency."""
    flt = task_service.TaskFilter(
        status=query["state"],
        lane=query.get("lane") or query.get("role"),
        instance_id=query.get("instance"),
        scope=query["scope"],
        limit=query["limit"],
        offset=query["offset"],
    )
    return list(task_service.list_tasks(command_context(), flt))


def _visible_task(task_id: int) -> HumanTask:
    ctx = command_context()
    task = task_service.get_task(ctx, task_id)
    if ctx.actor is None or not task_service.can_see(ctx.actor, task):
        raise errors.NotFoundError("No task with that id.")
    return task


@bp.get("/<int:task_id>")
@bp.response(200, TaskDetailSchema)
@requires_role()
def get_task(task_id: int) -> HumanTask:
    """Read a task with its form's JSON Schema (and, once completed, its answers)."""
    task = _visible_task(task_id)
    if task.status == "completed" and task.data:  # reading recorded answers is audited
        ctx = command_context()
        with unit_of_work(ctx.session, keep_loaded=True):
            records.audit_reads(ctx, [task.instance_id], via="api")
    return task


@bp.post("/<int:task_id>/complete")
@requires_role()
@bp.arguments(CompleteSchema)
@bp.response(200, InstanceSchema)
@bp.problem_response(409, "The task is no longer ready or the case changed")
@bp.problem_response(422, "The form data is not valid (each invalid field named)")
def complete_task(payload: dict[str, Any], task_id: int) -> Any:
    """Complete a task with form data; returns the instance with its new ready tasks."""
    ctx = command_context()
    with unit_of_work(ctx.session, keep_loaded=True), errors_under("#/data"):
        task = runtime.complete_task(
            ctx,
            task_id=task_id,
            data=payload["data"],
            expected_version=payload.get("instance_lock_version"),
        )
        instance = task.instance
    return instance


@bp.post("/<int:task_id>/claim")
@bp.response(200, UserTaskSchema)
@requires_role()
def claim_task(task_id: int) -> HumanTask:
    """Claim a task so colleagues do not work it at the same time."""
    _visible_task(task_id)
    ctx = command_context()
    with unit_of_work(ctx.session):
        task = task_service.claim(ctx, task_id=task_id)
    return task


@bp.post("/<int:task_id>/release")
@bp.response(200, UserTaskSchema)
@requires_role()
def release_task(task_id: int) -> HumanTask:
    """Release a claimed task."""
    _visible_task(task_id)
    ctx = command_context()
    with unit_of_work(ctx.session):
        task = task_service.release(ctx, task_id=task_id)
    return task
