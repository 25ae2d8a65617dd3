"""Pages: one task with its JSON Schema form, validated on the server.

Routes: GET, POST /tasks/<id>.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from domain import errors
from domain.agencies import service as agencies
from domain.context import Context
from domain.db import unit_of_work
from domain.families import view as family_view
from domain.families.ages import local_today
from domain.families.view import Household
from domain.forms import FieldError, sort_errors
from domain.lanes import LANES
from domain.processes import definitions, runtime
from domain.processes import tasks as task_service
from domain.processes.choices import (
    dynamic_choices,
)
from domain.processes.models import HumanTask
from domain.reports.paging import Span
from domain.reports.records import case_records
from domain.users.models import User
from web import dates
from web.answers import recorded
from web.formrender import Choices, FieldList, build_fields, check_submission
from web.pages.inbox import process_title
from web.pages.session import actor_of, notify, page_context
from web.people_forms import person_name

bp = Blueprint("pages_tasks", __name__)
RECENT_RECORDS = 10
"""Completed tasks whose answers a task page shows (with the start answers); the case page
shows them all."""
log = logging.getLogger("thinkfamily.web")

_SANDBOX = SandboxedEnvironment(autoescape=False)  # output is escaped by the page template


# --- shared with the start pages -----------------------------------------------------------


def pointer_field(pointer: str) -> str:
    """Turn a JSON Pointer ("#/rows/0/owner") into the renderer's field name ("rows-0-owner")."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("#").split("/") if p]
    return "-".join(parts)


def errors_from(exc: errors.ValidationFailedError, schema: Mapping[str, Any]) -> list[FieldError]:
    """Turn a service's ValidationFailedError into field errors for the error summary."""
    found = [
        FieldError(
            str(item.get("pointer", "#")),
            str(item.get("field") or pointer_field(str(item.get("pointer", "")))),
            str(item.get("detail", "Check this answer")),
        )
        for item in exc.errors
    ]
    return sort_errors(schema, found) if found else [FieldError("#", "", exc.detail)]


# --- the task page -------------------------------------------------------------------------


def _form_schema(task: HumanTask) -> dict[str, Any] | None:
    if not task.form_key:
        return None
    schema = task.instance.version.forms.get(task.form_key)
    if schema is None:
        raise errors.ConflictError("The task's form is missing from its process version.")
    return dict(schema)


def _instructions(ctx: Context, task: HumanTask) -> tuple[str, str]:
    """Return the task's (instructions, documentation) from the BPMN, instructions rendered."""
    info = task.instance.version.tasks.get(task.element_id) or {}
    documentation = str(info.get("documentation") or "")
    raw = str(info.get("instructions") or "")
    if not raw or ("{{" not in raw and "{%" not in raw):
        return raw, documentation
    try:
        compiled = definitions.compiled_of(task.instance.version)
        data = ctx.engine.task_data(compiled, runtime.unpack(task.instance.state), task.task_uuid)
        return _SANDBOX.from_string(raw).render(**data), documentation
    except Exception as exc:  # a bad template in a diagram must not break the page
        log.warning("task %s instructions not rendered: %s", task.id, type(exc).__name__)
        return raw, documentation


def _claimer_name(ctx: Context, task: HumanTask) -> str:
    if task.claimed_by is None:
        return ""
    if task.claimed_by == actor_of(ctx).user_id:
        return "You"
    name = ctx.session.scalar(select(User.display_name).where(User.id == task.claimed_by))
    return name or "A colleague"


def _visible_task(ctx: Context, task_id: int) -> HumanTask:
    task = task_service.get_task(ctx, task_id)
    if not task_service.can_see(actor_of(ctx), task):
        raise errors.NotFoundError("No task with that id.")
    return task


def _unavailable(
    ctx: Context, task: HumanTask, reason: str, detail: str = ""
) -> ResponseReturnValue:
    """The clear page (409) for a task that is done, withdrawn or being worked by a colleague."""
    actor = actor_of(ctx)
    return (
        render_template(
            "tasks/unavailable.html",
            task=task,
            reason=reason,
            detail=detail,
            claimer=_claimer_name(ctx, task),
            can_release=reason == "claimed" and actor.has_role("team_manager"),
        ),
        409,
    )


def _blocked(ctx: Context, task: HumanTask) -> str | None:
    """Return why the task cannot be worked now (None when it can be)."""
    if task.status != "ready":
        return task.status
    if task.claimed_by is not None and task.claimed_by != actor_of(ctx).user_id:
        return "claimed"
    return None


def _render(
    ctx: Context,
    task: HumanTask,
    schema: dict[str, Any] | None,
    values: Mapping[str, Any],
    problems: Sequence[FieldError],
    choices: Choices,
) -> ResponseReturnValue:
    actor = actor_of(ctx)
    fields = build_fields(schema, values, problems, choices) if schema else FieldList()
    instructions, documentation = _instructions(ctx, task)
    lane = LANES.get(task.lane or "")
    agency = agencies.find_agency(ctx, task.agency_code) if task.agency_code else None
    return render_template(
        "tasks/task.html",
        **_case_panels(ctx, task),
        task=task,
        instance=task.instance,
        process_title=process_title(task.instance.version.definition),
        schema=schema,
        fields=fields,
        errors=list(problems),
        instructions=instructions,
        documentation=documentation,
        lane_title=lane.title if lane else "",
        agency_name=agency.name if agency else "",
        claimer=_claimer_name(ctx, task),
        can_work=task_service.can_work(actor, task),
        due_text=dates.uk_date(task.due_at, ctx.calendar.tz),
        due_iso=dates.iso_date(task.due_at, ctx.calendar.tz),
        tag=dates.due_tag(task.due_at, ctx.now(), ctx.calendar),
    )


def _case_panels(ctx: Context, task: HumanTask) -> dict[str, Any]:
    """What the case holds, read in one audited unit: what was recorded, and the household."""
    family_id = task.instance.family_id
    with unit_of_work(ctx.session, keep_loaded=True):  # the reads are audited
        case = case_records(ctx, task.instance, via="task", span=Span(RECENT_RECORDS))
        records = {"records": recorded(case), "older_records": case.older}
        if family_id is None:
            return {**records, "household": None}
        household = family_view.get_household(ctx, family_id)
        names = {m.person.id: person_name(m.person) for m in household.members}
    return {**records, **_household_panel(task, household, names)}


def _household_panel(
    task: HumanTask, household: Household, names: dict[int, str]
) -> dict[str, Any]:
    """Think Family beside every task: the household's members and their open processes."""
    subjects = set(task.instance.subject_person_ids or [])
    by_person: dict[int, list[Any]] = {}
    household_wide = []
    for process in household.open_processes:
        if not process.subject_person_ids:
            household_wide.append(process)
        for person_id in process.subject_person_ids:
            by_person.setdefault(person_id, []).append(process)
    return {
        "household": household,
        "member_names": names,
        "subjects": subjects,
        "processes_by_person": by_person,
        "household_wide": household_wide,
    }


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task_page(task_id: int) -> ResponseReturnValue:
    """Show a task and its form; on POST validate, complete it and go back to the inbox."""
    ctx = page_context()
    actor = actor_of(ctx)
    task = _visible_task(ctx, task_id)
    blocked = _blocked(ctx, task)
    if blocked is not None:
        return _unavailable(ctx, task, blocked)
    schema = _form_schema(task)
    choices = dynamic_choices(ctx, schema, task.instance.family_id)
    if request.method == "GET":
        return _render(ctx, task, schema, {}, [], choices)
    if not task_service.can_work(actor, task):
        raise errors.PermissionDeniedError("This task is for another role or agency.")
    data: dict[str, Any] = {}
    problems: list[FieldError] = []
    if schema is not None:
        data, problems = check_submission(schema, request.form, choices, local_today(ctx))
    if problems:
        return _render(ctx, task, schema, data, problems, choices)
    title, instance_id, reference = task.title, task.instance_id, task.instance.reference
    try:
        with unit_of_work(ctx.session):
            runtime.complete_task(ctx, task_id=task.id, data=data)
    except errors.ValidationFailedError as exc:
        task = _visible_task(ctx, task_id)
        return _render(ctx, task, schema, data, errors_from(exc, schema or {}), choices)
    except errors.DefinitionProblemError as exc:  # the answers are shown again, not lost
        task = _visible_task(ctx, task_id)
        return _render(ctx, task, schema, data, [FieldError("", "", exc.detail)], choices)
    except errors.ConflictError as exc:
        log.info("task %s not completed: %s", task_id, exc.code)
        task = _visible_task(ctx, task_id)
        return _unavailable(ctx, task, _blocked(ctx, task) or "conflict", exc.detail)
    notify(
        "success",
        f"Task completed: {title}",
        f"Case {reference} has moved on.",
        href=f"/instances/{instance_id}",
        link_text=f"View case {reference}",
    )
    return redirect("/tasks")
