"""Pages: the inbox ("My tasks" and "My agency's tasks"), with claim and release.

Routes: GET /tasks · POST /tasks/<id>/claim · POST /tasks/<id>/release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from domain import errors
from domain.agencies import service as agencies
from domain.context import Actor, Context
from domain.db import unit_of_work
from domain.lanes import LANES
from domain.processes import definitions
from domain.processes import tasks as task_service
from domain.processes.models import HumanTask, ProcessDefinition
from domain.users.models import User
from engine.workdays import WorkingCalendar
from web import dates
from web.pages.session import actor_of, notify, page_context, safe_next

bp = Blueprint("pages_inbox", __name__)

VIEWS = {"mine": "My tasks", "agency": "My agency's tasks"}
DUE_FILTERS = {"all": "Any due date", "overdue": "Overdue", "soon": "Due soon"}
LIMIT = 500
INBOX = "/tasks"


@dataclass(frozen=True, slots=True)
class InboxFilters:
    """The inbox's GET parameters, checked."""

    view: str
    process: str
    lane: str
    due: str

    def query(self, **changes: str) -> dict[str, str]:
        """Return the filters as query parameters (defaults left out), with `changes` applied."""
        values = {"view": self.view, "process": self.process, "lane": self.lane, "due": self.due}
        values.update(changes)
        defaults = {"view": "mine", "process": "", "lane": "", "due": "all"}
        return {k: v for k, v in values.items() if v and v != defaults[k]}


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One row of the inbox table."""

    task: HumanTask
    process_title: str
    agency_name: str
    lane_title: str
    due_text: str
    due_iso: str
    tag: tuple[str, str] | None
    claimed_by: str
    claimed_by_me: bool
    can_claim: bool
    can_release: bool


def process_title(definition: ProcessDefinition) -> str:
    """Return a process's title; an uploaded process without one gets its key in words."""
    if definition.title and definition.title != definition.key:
        return definition.title
    return definition.key.replace("_", " ").replace("-", " ").capitalize()


def read_filters(args: Any, actor: Actor) -> InboxFilters:
    """Read the inbox filters from the query string, falling back to defaults on bad values."""
    view = args.get("view", "mine")
    lane = args.get("lane", "")
    due = args.get("due", "all")
    return InboxFilters(
        view=view if view in VIEWS else "mine",
        process=str(args.get("process", ""))[:80],
        lane=lane if lane in visible_lanes(actor) else "",
        due=due if due in DUE_FILTERS else "all",
    )


def visible_lanes(actor: Actor) -> dict[str, str]:
    """Return the lanes whose tasks the actor's agency can see, by title."""
    found = {
        name: lane.title
        for name, lane in LANES.items()
        if lane.kinds is None or actor.agency_kind in lane.kinds
    }
    return dict(sorted(found.items(), key=lambda item: item[1]))


def _user_names(ctx: Context, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


def build_rows(
    ctx: Context,
    actor: Actor,
    found: Sequence[HumanTask],
    *,
    now: datetime,
    calendar: WorkingCalendar,
) -> list[TaskRow]:
    """Describe tasks for the table: names, due tags, who claimed them and what I can do."""
    agency_names = agencies.names_by_code(ctx)
    names = _user_names(ctx, {t.claimed_by for t in found if t.claimed_by is not None})
    rows = []
    for task in found:
        mine = task.claimed_by == actor.user_id
        claimed = "—"
        if mine:
            claimed = "You"
        elif task.claimed_by is not None:
            claimed = names.get(task.claimed_by, "A colleague")
        workable = task.status == "ready" and task_service.can_work(actor, task)
        lane = LANES.get(task.lane or "")
        rows.append(
            TaskRow(
                task=task,
                process_title=process_title(task.instance.version.definition),
                agency_name=_agency_name(agency_names, task.agency_code),
                lane_title=lane.title if lane else "",
                due_text=dates.uk_date(task.due_at, calendar.tz) if task.due_at else "No due date",
                due_iso=dates.iso_date(task.due_at, calendar.tz),
                tag=dates.due_tag(task.due_at, now, calendar),
                claimed_by=claimed,
                claimed_by_me=mine,
                can_claim=workable and task.claimed_by is None,
                can_release=task.claimed_by is not None
                and (mine or actor.has_role("team_manager")),
            )
        )
    return rows


def _agency_name(names: dict[str, str], code: str | None) -> str:
    if code is None:
        return "Any agency"
    return names.get(code, code)


def _keep(row: TaskRow, filters: InboxFilters) -> bool:
    if filters.process and row.task.instance.process_key != filters.process:
        return False
    if filters.due == "overdue":
        return row.tag == dates.OVERDUE
    if filters.due == "soon":
        return row.tag == dates.DUE_SOON
    return True


@bp.get("/tasks")
def inbox() -> str:
    """List ready tasks: mine (I may work them) or my agency's, with filters and claim buttons."""
    ctx = page_context()
    actor = actor_of(ctx)
    filters = read_filters(request.args, actor)
    flt = task_service.TaskFilter(
        status="ready", lane=filters.lane or None, scope=filters.view, limit=LIMIT
    )
    found = task_service.list_tasks(ctx, flt)
    rows = [
        row
        for row in build_rows(ctx, actor, found, now=ctx.now(), calendar=ctx.calendar)
        if _keep(row, filters)
    ]
    processes = {d.key: process_title(d) for d in definitions.list_definitions(ctx)}
    return render_template(
        "inbox/inbox.html",
        rows=rows,
        filters=filters,
        views=VIEWS,
        due_filters=DUE_FILTERS,
        processes=processes,
        lanes=visible_lanes(actor),
        truncated=len(found) >= LIMIT,
        return_to=request.full_path.rstrip("?"),
    )


def _back() -> str:
    return safe_next(request.form.get("return_to"), default=INBOX)


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int) -> Response:
    """Claim a task so colleagues can see someone is working on it."""
    ctx = page_context()
    actor = actor_of(ctx)
    task = task_service.get_task(ctx, task_id)
    if not task_service.can_see(actor, task):
        raise errors.NotFoundError("No task with that id.")
    try:
        with unit_of_work(ctx.session):
            task = task_service.claim(ctx, task_id=task_id)
            title = task.title
    except errors.ConflictError as exc:
        notify("important", "You could not claim this task", exc.detail)
        return redirect(_back())
    notify(
        "success",
        f"You have claimed the task: {title}",
        "Colleagues can see you are working on it.",
    )
    return redirect(_back())


@bp.post("/tasks/<int:task_id>/release")
def release(task_id: int) -> Response:
    """Release a claimed task so a colleague can pick it up."""
    ctx = page_context()
    actor = actor_of(ctx)
    task = task_service.get_task(ctx, task_id)
    if not task_service.can_see(actor, task):
        raise errors.NotFoundError("No task with that id.")
    with unit_of_work(ctx.session):
        task = task_service.release(ctx, task_id=task_id)
        title = task.title
    notify("success", f"You have released the task: {title}", "A colleague can now pick it up.")
    return redirect(_back())
