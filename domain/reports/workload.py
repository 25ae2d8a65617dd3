"""Dashboard workload figures: open cases by process and stage, work due, escalations by stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from domain.agencies import service as agencies_service
from domain.context import Actor, Context
from domain.lanes import LANES
from domain.processes.models import HumanTask, ProcessDefinition, ProcessInstance

OPEN_STATUSES = ("active", "incident")
DUE_SOON_WORKING_DAYS = 2
"""Matches web.dates.due_tag: due on or before the close of the second working day after today."""
ESCALATION_KEY = "escalation"
NO_STAGE = "No stage recorded"
DUE_WORK_LIMIT = 200


@dataclass(frozen=True, slots=True)
class StageCount:
    """How many cases are at one stage."""

    stage: str
    count: int


@dataclass(frozen=True, slots=True)
class ProcessCounts:
    """Open cases of one process, in total and by current stage (largest first)."""

    key: str
    title: str
    total: int
    stages: tuple[StageCount, ...]


@dataclass(frozen=True, slots=True)
class DueTask:
    """An open task that is overdue or due soon."""

    task_id: int
    title: str
    lane_title: str
    agency_code: str | None
    agency_name: str | None
    """The name of the one agency whose task it is (None: any agency the lane allows)."""
    due_at: datetime
    overdue: bool
    claimed: bool
    instance_id: int
    reference: str | None
    process_title: str


@dataclass(frozen=True, slots=True)
class EscalationCounts:
    """Open escalations by current stage, and finished ones by the highest stage reached."""

    open_by_stage: tuple[StageCount, ...]
    finished_by_stage_reached: tuple[StageCount, ...]


def process_titles(ctx: Context) -> dict[str, str]:
    """Map every deployed process key to its title."""
    rows = ctx.session.execute(select(ProcessDefinition.key, ProcessDefinition.title))
    return {key: title for key, title in rows}


def open_counts(ctx: Context) -> list[ProcessCounts]:
    """Count open cases (active or with an incident) per process and current stage."""
    rows = ctx.session.execute(
        select(ProcessInstance.process_key, ProcessInstance.current_stage, func.count())
        .where(ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.process_key, ProcessInstance.current_stage)
    ).all()
    titles = process_titles(ctx)
    by_key: dict[str, Counter[str]] = {key: Counter() for key in titles}
    for process_key, stage, count in rows:
        by_key.setdefault(str(process_key), Counter())[stage or NO_STAGE] += int(count)
    result = []
    for key in sorted(by_key, key=lambda k: str(titles.get(k, k)).lower()):
        stages = _ordered(by_key[key])
        total = sum(s.count for s in stages)
        result.append(ProcessCounts(key, titles.get(key, key), total, stages))
    return result


def _ordered(counts: Counter[str]) -> tuple[StageCount, ...]:
    return tuple(
        StageCount(stage, count)
        for stage, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
    )


def due_soon_cutoff(ctx: Context) -> datetime:
    """Return the latest due instant that still counts as due soon."""
    return ctx.calendar.add_working_days(ctx.now(), DUE_SOON_WORKING_DAYS)


def _agency_lanes(actor: Actor) -> list[str]:
    return sorted(
        name
        for name, lane in LANES.items()
        if lane.kinds is None or actor.agency_kind in lane.kinds
    )


def due_work(ctx: Context, *, all_agencies: bool, limit: int = DUE_WORK_LIMIT) -> list[DueTask]:
    """List open tasks that are overdue or due soon, soonest first.

    Without `all_agencies`, only the actor's agency's work is listed: the same tasks as the
    "My agency's tasks" inbox (lanes its kind of agency works, for it or for any agency).
    """
    now = ctx.now()
    query = select(HumanTask).where(
        HumanTask.status == "ready",
        HumanTask.due_at.is_not(None),
        HumanTask.due_at <= due_soon_cutoff(ctx),
    )
    if not all_agencies and ctx.actor is not None:
        query = query.where(
            HumanTask.lane.in_(_agency_lanes(ctx.actor)),
            or_(HumanTask.agency_code.is_(None), HumanTask.agency_code == ctx.actor.agency_code),
        )
    tasks = ctx.session.scalars(query.order_by(HumanTask.due_at, HumanTask.id).limit(limit)).all()
    titles = process_titles(ctx)
    names = agencies_service.names_by_code(ctx) if tasks else {}
    return [_due(task, now, titles, names) for task in tasks]


def _due(
    task: HumanTask, now: datetime, titles: dict[str, str], agency_names: dict[str, str]
) -> DueTask:
    lane = LANES.get(task.lane or "")
    due_at = task.due_at or now  # never None: the query keeps only tasks with a due date
    instance = task.instance
    return DueTask(
        task_id=task.id,
        title=task.title,
        lane_title=lane.title if lane else (task.lane or ""),
        agency_code=task.agency_code,
        agency_name=agency_names.get(task.agency_code, task.agency_code)
        if task.agency_code
        else None,
        due_at=due_at,
        overdue=now > due_at,
        claimed=task.claimed_by is not None,
        instance_id=instance.id,
        reference=instance.reference,
        process_title=titles.get(instance.process_key, instance.process_key),
    )


def escalation_counts(ctx: Context, *, key: str = ESCALATION_KEY) -> EscalationCounts:
    """Count open escalations by stage and finished ones by the highest stage they reached."""
    open_rows = ctx.session.execute(
        select(ProcessInstance.current_stage, func.count())
        .where(ProcessInstance.process_key == key, ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.current_stage)
    ).all()
    open_counter: Counter[str] = Counter()
    for stage, count in open_rows:
        open_counter[stage or NO_STAGE] += int(count)
    summaries: Sequence[dict[str, object]] = ctx.session.scalars(
        select(ProcessInstance.summary).where(
            ProcessInstance.process_key == key, ProcessInstance.status == "completed"
        )
    ).all()
    reached: Counter[str] = Counter(_stage_reached(summary) for summary in summaries)
    finished = tuple(
        StageCount(label, reached[label]) for label in sorted(reached, key=_stage_sort_key)
    )
    return EscalationCounts(_ordered(open_counter), finished)


def _stage_reached(summary: dict[str, object] | None) -> str:
    value = (summary or {}).get("stage_reached")
    if isinstance(value, int) and not isinstance(value, bool):
        return "Resolved before stage 1" if value <= 0 else f"Stage {value}"
    return NO_STAGE


def _stage_sort_key(label: str) -> tuple[int, str]:
    digits = "".join(ch for ch in label if ch.isdigit())
    if label == NO_STAGE:
        return (99, label)
    return (int(digits) if digits else -1, label)
