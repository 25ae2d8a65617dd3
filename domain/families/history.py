"""Every process of a household and its members, and the family timeline (ids and titles only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, and_, cast, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased

from domain.audit.models import NOT_A_READ, AuditEvent
from domain.context import Context
from domain.processes.models import HumanTask, ProcessInstance

OPEN_STATUSES = frozenset({"active", "incident"})
PROCESS_ACTIONS = ("process.started", "process.completed", "process.terminated", "task.completed")
TIMELINE_PAGE = 50
"""Entries on one page of the timeline; older ones are a page further on, never left out."""
RECORD_ACTIONS = (
    "family.created",
    "family.member_added",
    "family.member_left",
    "family.member_returned",
    "family.consent_recorded",
    "family.consent_withdrawn",
    "family.information_sharing_recorded",
    "person.created",
    "person.updated",
    "person.relationship_added",
    "person.relationship_removed",
    "person.ethnicity_recorded",
    "person.disabilities_recorded",
)
MEMBER_ACTIONS = frozenset({"family.member_added", "family.member_left", "family.member_returned"})
"""Family events about one member, whose id is in the details."""
TIMELINE_SHOWS: dict[str, tuple[str, ...]] = {
    "all": (*RECORD_ACTIONS, *PROCESS_ACTIONS),
    "processes": PROCESS_ACTIONS,
    "records": RECORD_ACTIONS,
}
"""What a timeline can show: everything, the processes and their tasks, or the family record."""
TITLES = {
    "family.created": "Family record opened",
    "family.member_added": "Member added to the household",
    "family.member_left": "Left the household",
    "family.member_returned": "Back living in the household",
    "family.consent_recorded": "Consent recorded",
    "family.consent_withdrawn": "Consent withdrawn",
    "family.information_sharing_recorded": "Information-sharing decision recorded",
    "person.created": "Person record created",
    "person.updated": "Person details changed",
    "person.relationship_added": "Relationship recorded",
    "person.relationship_removed": "Relationship removed",
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
    """Something that happened to the family, a member or one of their processes.

    `person_id` is the person it happened to (a member added, a relationship's first person,
    a person whose details changed); `other_person_id` and `relationship` say how a recorded
    relationship reads: `person_id` is `relationship` of `other_person_id`. `changed` names
    the details changed, never their values. `actor_id` and `agency_id` say who did it.
    """

    id: int
    at: datetime
    action: str
    title: str
    subject_type: str
    subject_id: str
    instance_id: int | None
    reference: str | None
    person_id: int | None
    other_person_id: int | None
    relationship: str | None
    changed: tuple[str, ...]
    status: str | None
    actor_id: int | None
    agency_id: int | None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of the timeline, newest first; `older_than` continues it (None at the end)."""

    entries: tuple[TimelineEntry, ...]
    show: str
    before: int | None
    older_than: int | None


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
    show: str = "all",
    before: int | None = None,
    limit: int | None = None,
) -> TimelinePage:
    """Return a page of family, member and process events, newest first (reads are not events).

    `show` is a key of TIMELINE_SHOWS; `limit` defaults to TIMELINE_PAGE. `before` is an
    entry's id: the page then starts with the entry that comes after it, so paging on from
    `older_than` reaches every entry once.
    """
    if show not in TIMELINE_SHOWS:
        raise ValueError(f"unknown timeline filter {show!r}")
    limit = TIMELINE_PAGE if limit is None else limit
    references = {i.id: i.reference for i in instances}
    titles = {i.id: i.version.definition.title for i in instances}
    shown = TIMELINE_SHOWS[show]
    # Each kind of entry is sought through its own index, reads left out (NOT_A_READ, in
    # the words of the index), and only then ordered. Left to itself a planner may read a
    # family's every view, or walk the whole audit trail newest first to fill one page
    # (PostgreSQL did: 1.4 s for a family last changed a year and 800,000 rows ago).
    branches = [
        select(AuditEvent).where(
            AuditEvent.subject_type == "family",
            AuditEvent.subject_id == str(family_id),
            AuditEvent.action.in_(shown),
            NOT_A_READ,
        )
    ]
    if person_ids:
        branches.append(
            select(AuditEvent).where(
                AuditEvent.subject_type == "person",
                AuditEvent.subject_id.in_([str(p) for p in person_ids]),
                AuditEvent.action.in_(shown),
                NOT_A_READ,
            )
        )
    case_actions = [a for a in shown if a in PROCESS_ACTIONS]
    if references and case_actions:
        branches.append(
            select(AuditEvent).where(
                AuditEvent.instance_id.in_(list(references)),
                AuditEvent.instance_id.is_not(None),
                AuditEvent.subject_type.not_in(("family", "person")),  # sought above
                AuditEvent.action.in_(case_actions),
            )
        )
    if before is not None:
        mark = select(AuditEvent.at).where(AuditEvent.id == before).scalar_subquery()
        after = or_(AuditEvent.at < mark, and_(AuditEvent.at == mark, AuditEvent.id < before))
        branches = [branch.where(after) for branch in branches]
    found = union_all(*branches).cte("timeline_entries").prefix_with("MATERIALIZED")
    entry = aliased(AuditEvent, found)
    query = select(entry).order_by(entry.at.desc(), entry.id.desc()).limit(limit + 1)
    events = ctx.session.scalars(query).all()
    more = len(events) > limit
    events = events[:limit]
    task_ids = [int(e.subject_id) for e in events if e.action == "task.completed"]
    task_titles: dict[int, str] = {}
    if task_ids:
        rows = ctx.session.execute(
            select(HumanTask.id, HumanTask.title).where(HumanTask.id.in_(task_ids))
        )
        task_titles = {task_id: title for task_id, title in rows}
    return TimelinePage(
        entries=tuple(_entry(e, references, titles, task_titles) for e in events),
        show=show,
        before=before,
        older_than=events[-1].id if more else None,
    )


def people_named(page: TimelinePage) -> set[int]:
    """Every person a page's entries name."""
    named = {e.person_id for e in page.entries} | {e.other_person_id for e in page.entries}
    return {p for p in named if p is not None}


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
    details = event.details or {}
    person_id = other_id = None
    if event.subject_type == "person":
        person_id = int(event.subject_id)
        other_id = _int_or_none(details.get("related_person_id"))
    elif event.action in MEMBER_ACTIONS:
        person_id = _int_or_none(details.get("person_id"))
    changed = details.get("fields") if event.action == "person.updated" else None
    status = details.get("status") if event.action == "family.consent_recorded" else None
    return TimelineEntry(
        id=event.id,
        at=event.at,
        action=event.action,
        title=title,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        instance_id=event.instance_id,
        reference=references.get(event.instance_id) if event.instance_id else None,
        person_id=person_id,
        other_person_id=other_id,
        relationship=details.get("kind") if other_id is not None else None,
        changed=tuple(str(f) for f in changed) if isinstance(changed, list) else (),
        status=status if isinstance(status, str) else None,
        actor_id=event.actor_id,
        agency_id=event.actor_agency_id,
    )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
