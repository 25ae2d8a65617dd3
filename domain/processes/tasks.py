"""Task rows: inbox queries, permission to work a task, claim and release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, bindparam, or_, select, update
from sqlalchemy.orm import aliased, contains_eager, defaultload

from domain import errors
from domain.audit import service as audit
from domain.context import Actor, Context
from domain.lanes import LANES, PROCESS_OWNER, lanes_for
from domain.processes.models import HumanTask, ProcessInstance, ProcessVersion


def _actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise errors.AuthenticationError("Sign in first.")
    return ctx.actor


_SAME_INSTANCE = aliased(HumanTask)
_FOR_WORK = (
    select(HumanTask)
    .join(HumanTask.instance)
    .join(ProcessInstance.version)
    .where(
        HumanTask.instance_id
        == select(_SAME_INSTANCE.instance_id)
        .where(_SAME_INSTANCE.id == bindparam("task_id"))
        .scalar_subquery(),
        HumanTask.status == "ready",
    )
    .options(
        contains_eager(HumanTask.instance)
        .contains_eager(ProcessInstance.version)
        .lazyload(ProcessVersion.definition),  # only a compiled-version cache miss reads it
        defaultload(HumanTask.instance).undefer(ProcessInstance.state),
    )
    .order_by(HumanTask.id)
)


def get_task(ctx: Context, task_id: int) -> HumanTask:
    """Return a task row or raise NotFoundError."""
    task = ctx.session.get(HumanTask, task_id)
    if task is None:
        raise errors.NotFoundError("No task with that id.")
    return task


def get_task_for_work(ctx: Context, task_id: int) -> tuple[HumanTask, list[HumanTask]]:
    """Return a task and every ready task of its instance (raise NotFoundError).

    One prepared query loads what completing a ready task needs: the instance with its
    stored state, its pinned process version, and the instance's ready task rows, the task
    among them. A task that is no longer ready is returned alone, for the caller to refuse.
    """
    rows = list(ctx.session.scalars(_FOR_WORK, {"task_id": task_id}).unique())
    task = next((row for row in rows if row.id == task_id), None)
    if task is None:
        return get_task(ctx, task_id), []
    return task, rows


def can_work(actor: Actor, task: HumanTask) -> bool:
    """Return whether the actor may complete the task (lane role, agency, assignee, claim)."""
    lane = LANES.get(task.lane or "")
    if lane is None:
        return False
    if not (lane.roles & actor.roles) or (
        lane.kinds is not None and actor.agency_kind not in lane.kinds
    ):
        return False
    if task.agency_code and task.agency_code != actor.agency_code:
        return False
    if task.assignee and task.assignee != actor.username:
        return False
    return not (task.claimed_by is not None and task.claimed_by != actor.user_id)


def ensure_can_work(ctx: Context, task: HumanTask) -> None:
    """Raise PermissionDeniedError unless the actor may work the task."""
    if ctx.actor is None:
        return
    if not can_work(ctx.actor, task):
        if task.claimed_by is not None and task.claimed_by != ctx.actor.user_id:
            raise errors.ConflictError("A colleague has claimed this task.")
        raise errors.PermissionDeniedError("This task is for another role or agency.")


def can_see(actor: Actor, task: HumanTask) -> bool:
    """Return whether the actor may see the task (workers, their managers, process owners)."""
    if actor.has_role(PROCESS_OWNER):
        return True
    lane = LANES.get(task.lane or "")
    if lane is None:
        return False
    kind_ok = lane.kinds is None or actor.agency_kind in lane.kinds
    agency_ok = task.agency_code is None or task.agency_code == actor.agency_code
    return kind_ok and agency_ok


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Inbox filters."""

    status: str = "ready"
    lane: str | None = None
    instance_id: int | None = None
    scope: str = "mine"
    """mine: tasks I may work (my roles and agency) | agency: my agency's tasks | all (owners)."""
    limit: int = 200
    offset: int = 0


def _visible(query: Select[HumanTask], actor: Actor, scope: str) -> Select[HumanTask]:
    if scope == "all" and actor.has_role(PROCESS_OWNER):
        return query
    if scope == "agency":
        kind_lanes = [
            n for n, lane in LANES.items() if lane.kinds is None or actor.agency_kind in lane.kinds
        ]
        return query.where(
            HumanTask.lane.in_(kind_lanes),
            or_(HumanTask.agency_code.is_(None), HumanTask.agency_code == actor.agency_code),
        )
    lanes = sorted(lanes_for(actor.roles, actor.agency_kind))
    return query.where(
        HumanTask.lane.in_(lanes),
        or_(HumanTask.agency_code.is_(None), HumanTask.agency_code == actor.agency_code),
        or_(HumanTask.assignee.is_(None), HumanTask.assignee == actor.username),
        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor.user_id),
    )


def list_tasks(ctx: Context, flt: TaskFilter) -> Sequence[HumanTask]:
    """List tasks the actor may see, soonest due first."""
    query = select(HumanTask)
    if flt.status != "any":
        query = query.where(HumanTask.status == flt.status)
    if flt.lane:
        query = query.where(HumanTask.lane == flt.lane)
    if flt.instance_id is not None:
        query = query.where(HumanTask.instance_id == flt.instance_id)
    if ctx.actor is not None:
        query = _visible(query, ctx.actor, flt.scope)
    query = (
        query.order_by(and_(HumanTask.due_at.is_(None)), HumanTask.due_at, HumanTask.id)
        .limit(flt.limit)
        .offset(flt.offset)
    )
    return ctx.session.scalars(query).all()


def claim(ctx: Context, *, task_id: int) -> HumanTask:
    """Claim a ready task so colleagues do not work it at the same time."""
    task = get_task(ctx, task_id)
    actor = _actor(ctx)
    if task.status != "ready":
        raise errors.ConflictError("The task is no longer awaiting input.")
    ensure_can_work(ctx, task)
    # One conditional UPDATE, so that of colleagues claiming at the same moment exactly one wins
    # (a read-then-write would let each of them overwrite the others' claim).
    claimed = ctx.session.execute(
        update(HumanTask)
        .where(
            HumanTask.id == task.id,
            HumanTask.status == "ready",
            or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor.user_id),
        )
        .values(claimed_by=actor.user_id, claimed_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        raise errors.ConflictError("A colleague has claimed this task.")
    ctx.session.refresh(task)
    audit.record(ctx, "task.claimed", ("human_task", task.id), instance_id=task.instance_id)
    return task


def _manages_claimer(ctx: Context, task: HumanTask) -> bool:
    actor = _actor(ctx)
    if not actor.has_role("team_manager") or task.claimed_by is None:
        return False
    from domain.users.models import User

    claimer = ctx.session.get(User, task.claimed_by)
    return claimer is not None and claimer.agency_id == actor.agency_id


def release(ctx: Context, *, task_id: int) -> HumanTask:
    """Release a claim (the claimer, or a team manager of the same agency)."""
    task = get_task(ctx, task_id)
    actor = _actor(ctx)
    if task.claimed_by is None:
        return task
    if task.claimed_by != actor.user_id and not actor.has_role("team_manager"):
        raise errors.PermissionDeniedError(
            "Only the colleague who claimed it or a manager can release it."
        )
    claimer = task.claimed_by
    task.claimed_by = None
    task.claimed_at = None
    audit.record(
        ctx,
        "task.released",
        ("human_task", task.id),
        instance_id=task.instance_id,
        claimed_by=claimer,  # whose claim it was: a manager may release a colleague's
    )
    return task
