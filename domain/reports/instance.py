"""The instance page's read side: stage status, timeline and audit trail (ids and codes only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.agencies import service as agencies_service
from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.context import Context
from domain.processes.models import HumanTask, ProcessInstance
from domain.reports.paging import ALL, Span, Window
from domain.users import service as users_service

ACTION_LABELS = {
    "process.started": "Process started",
    "process.completed": "Process completed",
    "process.terminated": "Process ended early",
    "task.created": "Task opened",
    "task.completed": "Task completed",
    "task.claimed": "Task claimed",
    "task.released": "Task released",
    "timers.fired": "Timer fired",
    "timers.retried": "Timer retried",
    "notification.sent": "Notification sent",
    "notification.failed": "Notification failed",
}
TIMELINE_ACTIONS = ("process.started", "task.created", "task.completed", "process.completed")
TIMELINE_ACTIONS_ALL = (*TIMELINE_ACTIONS, "process.terminated")
SYSTEM = "ThinkFamily (automatic)"


@dataclass(frozen=True, slots=True)
class ElementState:
    """One diagram element and whether it is done or in progress."""

    element_id: str
    name: str
    state: str
    """completed | active"""


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit event as people read it: who (display name), what, when, about which record."""

    at: datetime
    who: str
    agency: str | None
    action: str
    label: str
    subject: str
    details: str


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """Something that happened in the case: a start, a task opened or done, the end."""

    at: datetime
    text: str
    who: str | None


def element_states(instance: ProcessInstance) -> list[ElementState]:
    """List the instance's completed then active steps by name (unnamed gateways are left out)."""
    raw = instance.version.element_names or {}
    names = {element: name for element, name in raw.items() if name and name != element}
    done = [
        ElementState(e, names[e], "completed")
        for e in instance.completed_elements or []
        if e in names
    ]
    active = [
        ElementState(e, names[e], "active") for e in instance.active_elements or [] if e in names
    ]
    return done + active


def status_json(instance: ProcessInstance) -> dict[str, Any]:
    """Return the diagram status: completed and active element ids (no counts)."""
    return {
        "completed": list(instance.completed_elements or []),
        "active": list(instance.active_elements or []),
        "counts": {},
    }


def _task_titles(ctx: Context, events: Sequence[AuditEvent]) -> dict[str, str]:
    """Task titles by task id, each with its agency's name when the task is for one agency
    (each invited agency has its own "Respond to the invitation")."""
    ids = [int(e.subject_id) for e in events if e.subject_type == "human_task"]
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(HumanTask.id, HumanTask.title, HumanTask.agency_code).where(HumanTask.id.in_(ids))
    ).all()
    names = agencies_service.names_by_code(ctx) if rows else {}
    return {
        str(task_id): f"{title} ({names.get(code, code)})" if code else title
        for task_id, title, code in rows
    }


def _details(details: dict[str, Any] | None) -> str:
    parts = []
    for key, value in sorted((details or {}).items()):
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def audit_trail(ctx: Context, instance_id: int, span: Span = ALL) -> Window[AuditLine]:
    """Return the instance's audit events (the part `span` asks for), oldest first, with
    people's display names."""
    total = audit.count_for_instance(ctx, instance_id)
    start, limit = span.bounds(total)
    events = audit.list_for_instance(ctx, instance_id, start=start, limit=limit)
    claimers = [(e.details or {}).get("claimed_by") for e in events]
    people = [e.actor_id for e in events] + [c for c in claimers if isinstance(c, int)]
    names = users_service.display_names(ctx, people)
    agencies = agencies_service.names_by_id(ctx, (e.actor_agency_id for e in events))
    tasks = _task_titles(ctx, events)
    lines = []
    for event in events:
        details = dict(event.details or {})
        if isinstance(details.get("claimed_by"), int):  # a person, by name
            details["claimed_by"] = names.get(details["claimed_by"], "a colleague")
        subject = f"{event.subject_type.replace('_', ' ')} {event.subject_id}"
        if event.subject_type == "human_task" and event.subject_id in tasks:
            subject = f"Task: {tasks[event.subject_id]}"
        lines.append(
            AuditLine(
                at=event.at,
                who=names.get(event.actor_id, SYSTEM) if event.actor_id else SYSTEM,
                agency=agencies.get(event.actor_agency_id) if event.actor_agency_id else None,
                action=event.action,
                label=ACTION_LABELS.get(event.action, event.action),
                subject=subject,
                details=_details(details),
            )
        )
    return Window(lines, start, total)


def timeline(ctx: Context, instance: ProcessInstance, span: Span = ALL) -> Window[TimelineItem]:
    """Return the case's starts, task openings and completions and its end (the part `span`
    asks for), oldest first."""
    total = audit.count_for_instance(ctx, instance.id, actions=TIMELINE_ACTIONS_ALL)
    start, limit = span.bounds(total)
    events = audit.list_for_instance(
        ctx, instance.id, actions=TIMELINE_ACTIONS_ALL, start=start, limit=limit
    )
    names = users_service.display_names(ctx, (e.actor_id for e in events))
    tasks = _task_titles(ctx, events)
    items = []
    for event in events:
        who = names.get(event.actor_id) if event.actor_id else None
        if event.action == "task.created":
            # the process opens a task; whoever finished the step before it did not
            who = None
            text = f"Task opened: {tasks.get(event.subject_id, 'a task')}"
        elif event.action == "task.completed":
            text = f"Task completed: {tasks.get(event.subject_id, 'a task')}"
        elif event.action == "process.terminated":
            text = "Process ended early"
        else:
            text = ACTION_LABELS[event.action]
        items.append(TimelineItem(at=event.at, text=text, who=who))
    return Window(items, start, total)
