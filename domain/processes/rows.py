"""Rows a process state projects, written with prepared statements.

Every start, task completion and timer firing writes the same few rows: the case with its new
state, the task rows and the timer rows. Each is one prepared statement, executed once per
change on the unit of work's connection (the ORM's unit of work would cost several times
more), and the loaded objects are kept in step so the rest of the request sees what was
written. Never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, bindparam, delete, insert, inspect, select, update
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from domain.context import Context
from domain.db import Base, table_of
from domain.processes.models import HumanTask, ProcessInstance, TimerRow
from engine import WaitingTimer

_OPEN_TASKS = (
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "ready")
    .options(lazyload(HumanTask.instance))  # the caller holds the instance already
)


def open_tasks(ctx: Context, instance_id: int) -> list[HumanTask]:
    """The instance's ready task rows."""
    return list(ctx.session.scalars(_OPEN_TASKS, {"instance_id": instance_id}))


_INSTANCES = table_of(ProcessInstance)
_TASKS = table_of(HumanTask)
_INSTANCE_STATE = (
    "state",
    "updated_at",
    "summary",
    "current_stage",
    "active_elements",
    "completed_elements",
    "status",
    "ended_at",
    "next_timer_due_at",
)
_INSERT_INSTANCE = insert(_INSTANCES).returning(_INSTANCES.c.id)
_SET_REFERENCE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("b_id"))
    .values(reference=bindparam("reference"))
)
_UPDATE_INSTANCE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("b_id"), _INSTANCES.c.lock_version == bindparam("b_lock"))
    .values({name: bindparam(name) for name in (*_INSTANCE_STATE, "lock_version")})
)
_INSERT_TASK = insert(_TASKS).returning(_TASKS.c.id)
_COMPLETE_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("b_id"), _TASKS.c.status == "ready")
    .values(
        status=bindparam("status"),
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("completed_by"),
        data=bindparam("data"),
    )
)
_CANCEL_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("b_id"), _TASKS.c.status == "ready")
    .values(status=bindparam("status"))
)
_INSERT_TIMERS = insert(table_of(TimerRow))
_DELETE_TIMERS = delete(table_of(TimerRow)).where(
    table_of(TimerRow).c.instance_id == bindparam("b_instance")
)


def _make_persistent(ctx: Context, row: Base) -> None:
    """Add a row just inserted by statement to the session as if loaded (no second INSERT)."""
    make_transient_to_detached(row)
    ctx.session.add(row)


def _write_row(ctx: Context, statement: Update, row: Base, values: dict[str, Any]) -> None:
    """Update one loaded row by statement and keep the loaded object in step."""
    identity = inspect(row).identity
    if identity is None:  # pragma: no cover - only loaded rows are written this way
        raise StaleDataError("the row is not in the database")
    result = ctx.session.connection().execute(statement, {"b_id": identity[0], **values})
    if result.rowcount != 1:
        raise StaleDataError("the task row changed in another transaction")
    for name, value in values.items():
        set_committed_value(row, name, value)


def insert_instance(
    ctx: Context, instance: ProcessInstance, values: dict[str, Any], *, reference_prefix: str
) -> None:
    """Insert a new instance with its first state; give it its reference; make it persistent."""
    columns = {
        c.key: getattr(instance, c.key)
        for c in _INSTANCES.columns
        if c.key not in ("id", "reference") and c.key not in values
    }
    columns.update(values, lock_version=1)
    connection = ctx.session.connection()
    instance_id = connection.execute(_INSERT_INSTANCE, columns).scalar_one()
    reference = f"{reference_prefix}-{instance_id:06d}"
    connection.execute(_SET_REFERENCE, {"b_id": instance_id, "reference": reference})
    for name, value in columns.items():
        setattr(instance, name, value)
    instance.id = instance_id
    instance.reference = reference
    _make_persistent(ctx, instance)


def update_instance(ctx: Context, instance: ProcessInstance, values: dict[str, Any]) -> None:
    """Write a new state under the optimistic lock; keep the loaded instance in step."""
    lock = instance.lock_version
    params = {**values, "lock_version": lock + 1, "b_id": instance.id, "b_lock": lock}
    result = ctx.session.connection().execute(_UPDATE_INSTANCE, params)
    if result.rowcount != 1:
        raise StaleDataError("the process instance changed in another transaction")
    for name, value in values.items():
        set_committed_value(instance, name, value)
    set_committed_value(instance, "lock_version", lock + 1)


def clear_timers(ctx: Context, instance_id: int) -> None:
    """Delete the instance's timer rows (they are rewritten from the new state)."""
    for obj in list(ctx.session.identity_map.values()):
        if isinstance(obj, TimerRow) and obj.instance_id == instance_id:
            ctx.session.expunge(obj)
    ctx.session.connection().execute(_DELETE_TIMERS, {"b_instance": instance_id})


def add_timers(ctx: Context, instance_id: int, timers: tuple[WaitingTimer, ...]) -> None:
    """Insert the instance's waiting timer rows in one batch."""
    if not timers:
        return
    ctx.session.connection().execute(
        _INSERT_TIMERS,
        [
            {
                "instance_id": instance_id,
                "task_uuid": timer.task_id,
                "element_id": timer.element_id,
                "title": timer.title,
                "agency_code": timer.agency,
                "due_at": timer.due_at,
                "status": "waiting",
                "attempts": 0,
            }
            for timer in timers
        ],
    )


def insert_task(ctx: Context, instance: ProcessInstance, values: dict[str, Any]) -> HumanTask:
    """Insert a ready task row for the instance and return it as a loaded object."""
    task_id = ctx.session.connection().execute(_INSERT_TASK, values).scalar_one()
    row = HumanTask(id=task_id, instance=instance, **values)
    _make_persistent(ctx, row)
    return row


def complete_task(ctx: Context, task: HumanTask, values: dict[str, Any]) -> None:
    """Mark a ready task completed (StaleDataError if it is no longer ready)."""
    _write_row(ctx, _COMPLETE_TASK, task, {"status": "completed", **values})


def cancel_task(ctx: Context, task: HumanTask) -> None:
    """Mark a ready task cancelled (StaleDataError if it is no longer ready)."""
    _write_row(ctx, _CANCEL_TASK, task, {"status": "cancelled"})
