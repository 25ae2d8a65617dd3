"""Every process of a household and its members, and the family timeline (ids and titles only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, and_, cast, exists, func, or_, select

from domain.audit.models import AuditEvent
from domain.context import Context
from domain.processes.models import HumanTask, ProcessInstance

OPEN_STATUSES = frozenset({"active", "incident"})
PROCESS_ACTIONS = ("process.started", "process.completed", "process.terminated", "task.completed")
TIMELINE_LIMIT = 200
TITLES = {
    "family.created": "Family record opened",
    "family.member_added": "Member added to the household",
    "family.consent_recorded": "Consent recorded",
    "family.consent_withdrawn": "Consent withdrawn",
    "family.information_sharing_recorded": "Information-sharing decision recorded",
    "person.created": "Person record created",
    "person.updated": "Person details changed",
    "person.relationship_added": "Relationship recorded",
    "person.ethnicity_recorded": "Ethnicity recorded",
    "person.disabilities_recorded": "Disabilities recorded",
    "process.started": "started",
    "process.completed": "completed",
    "process.terminated": "ended early",
}


@dataclass(frozen=True, slots=True)
class ProcessView:
    """One process instance of the household or of one of its members."""

    instance_id: int
    reference: str | None
    process_key: str
    title: str
    status: str
    open: bool
    current_stage: str | None
    next_due_at: datetime | None
    started_at: datetime
    ended_at: datetime | None
    family_id: int | None
    subject_person_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Something that happened to the family, a member or one of their processes."""

    at: datetime
    action: str
    title: str
    subject_type: str
    subject_id: str
    instance_id: int | None
    reference: str | None


def _mentions_any(ctx: Context, person_ids: Sequence[int]) -> ColumnElement[bool]:
    """Match instances whose subject_person_ids (a JSON list) holds any of these ids."""
    column = ProcessInstance.subject_person_ids
    if ctx.session.get_bind().dialect.name == "postgresql":
        items = func.json_array_elements_text(column).table_valued("value")
        return exists(
            select(1).select_from(items).where(cast(items.c.value, Integer).in_(person_ids))
        )
    items = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(items).where(items.c.value.in_(person_ids)))


def instances_for(
    ctx: Context, *, family_id: int, person_ids: Sequence[int]
) -> Sequence[ProcessInstance]:
    """Return every instance about the family or naming any of the people, newest first."""
    condition: ColumnElement[bool] = ProcessInstance.family_id == family_id
    if person_ids:
        condition = or_(condition, _mentions_any(ctx, person_ids))
    query = select(ProcessInstance).where(condition)
    return ctx.session.scalars(
        query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    ).all()


def process_views(ctx: Context, instances: Sequence[ProcessInstance]) -> list[ProcessView]:
    """Describe instances with their stage and next due date (earliest task or timer)."""
    ids = [i.id for i in instances]
    due: dict[int, datetime] = {}
    if ids:
        rows = ctx.session.execute(
            select(HumanTask.instance_id, HumanTask.due_at).where(
                HumanTask.instance_id.in_(ids),
                HumanTask.status == "ready",
                HumanTask.due_at.is_not(None),
            )
        )
        for instance_id, due_at in rows:
            if due_at is not None and (instance_id not in due or due_at < due[instance_id]):
                due[instance_id] = due_at
    return [_view(instance, due.get(instance.id)) for instance in instances]


def _view(instance: ProcessInstance, task_due: datetime | None) -> ProcessView:
    is_open = instance.status in OPEN_STATUSES
    candidates = [d for d in (task_due, instance.next_timer_due_at) if d is not None]
    return ProcessView(
        instance_id=instance.id,
        reference=instance.reference,
        process_key=instance.process_key,
        title=instance.version.definition.title,
        status=instance.status,
        open=is_open,
        current_stage=instance.current_stage if is_open else None,
        next_due_at=min(candidates) if is_open and candidates else None,
        started_at=instance.started_at,
        ended_at=instance.ended_at,
        family_id=instance.family_id,
        subject_person_ids=tuple(instance.subject_person_ids or ()),
    )


def timeline(
    ctx: Context,
    *,
    family_id: int,
    person_ids: Sequence[int],
    instances: Sequence[ProcessInstance],
) -> list[TimelineEntry]:
    """Return family, member and process events, newest first (reads are not events)."""
    references = {i.id: i.reference for i in instances}
    titles = {i.id: i.version.definition.title for i in instances}
    condition = or_(
        and_(AuditEvent.subject_type == "family", AuditEvent.subject_id == str(family_id)),
        and_(
            AuditEvent.subject_type == "person",
            AuditEvent.subject_id.in_([str(p) for p in person_ids]),
        ),
        and_(AuditEvent.instance_id.in_(list(references)), AuditEvent.action.in_(PROCESS_ACTIONS)),
    )
    query = (
        select(AuditEvent)
        .where(condition, AuditEvent.action.in_([*TITLES, "task.completed"]))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    )
    events = ctx.session.scalars(query).all()
    task_ids = [int(e.subject_id) for e in events if e.action == "task.completed"]
    rows = ctx.session.execute(
        select(HumanTask.id, HumanTask.title).where(HumanTask.id.in_(task_ids))
    )
    task_titles = {task_id: title for task_id, title in rows}
    return [_entry(e, references, titles, task_titles) for e in events]


def _entry(
    event: AuditEvent,
    references: dict[int, str | None],
    titles: dict[int, str],
    task_titles: dict[int, str],
) -> TimelineEntry:
    if event.action == "task.completed":
        title = f"Completed: {task_titles.get(int(event.subject_id), 'a task')}"
    elif event.action.startswith("process.") and event.instance_id in titles:
        title = f"{titles[event.instance_id]} {TITLES[event.action]}"
    else:
        title = TITLES[event.action]
    return TimelineEntry(
        at=event.at,
        action=event.action,
        title=title,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        instance_id=event.instance_id,
        reference=references.get(event.instance_id) if event.instance_id else None,
    )
