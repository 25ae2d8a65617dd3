"""Read-side queries over instances, their task rows and timers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from domain.context import Context
from domain.db import projected_ready_rows
from domain.processes.models import HumanTask, ProcessInstance, TimerRow


def list_instances(
    ctx: Context,
    *,
    status: str | None = None,
    process_key: str | None = None,
    family_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[ProcessInstance]:
    """List instances, newest first."""
    query = select(ProcessInstance)
    if status:
        query = query.where(ProcessInstance.status == status)
    if process_key:
        query = query.where(ProcessInstance.process_key == process_key)
    if family_id is not None:
        query = query.where(ProcessInstance.family_id == family_id)
    query = query.order_by(ProcessInstance.id.desc()).limit(limit).offset(offset)
    return ctx.session.scalars(query).all()


def ready_tasks(ctx: Context, instance_id: int) -> Sequence[HumanTask]:
    """Ready task rows of an instance (as this unit of work projected them, if it did)."""
    projected = projected_ready_rows(ctx.session).get(instance_id)
    if projected is not None:
        return list(projected)
    query = select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "ready"
    )
    return ctx.session.scalars(query.order_by(HumanTask.id)).all()


def completed_tasks(ctx: Context, instance_id: int) -> Sequence[HumanTask]:
    """Completed task rows of an instance, oldest first."""
    query = select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "completed"
    )
    return ctx.session.scalars(query.order_by(HumanTask.completed_at, HumanTask.id)).all()


def timers(ctx: Context, instance_id: int) -> Sequence[TimerRow]:
    """Waiting timers of an instance, soonest first."""
    query = select(TimerRow).where(TimerRow.instance_id == instance_id).order_by(TimerRow.due_at)
    return ctx.session.scalars(query).all()


def linked(
    ctx: Context, instance: ProcessInstance
) -> tuple[ProcessInstance | None, Sequence[ProcessInstance]]:
    """The case this one was started from (if any), and the cases it started, oldest first."""
    parent = None
    if instance.parent_instance_id is not None:
        parent = ctx.session.get(ProcessInstance, instance.parent_instance_id)
    query = select(ProcessInstance).where(ProcessInstance.parent_instance_id == instance.id)
    return parent, ctx.session.scalars(query.order_by(ProcessInstance.id)).all()
