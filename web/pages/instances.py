"""The instance page: what was recorded, stages on the diagram and as text, open tasks and
timers, timeline, audit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from api.common.auth import requires_role
from api.common.context import command_context
from domain.agencies import service as agencies
from domain.db import unit_of_work
from domain.forms import FieldError
from domain.lanes import LANES
from domain.processes import instances as instance_queries
from domain.processes import runtime
from domain.reports import instance as instance_report
from domain.reports.access import TERMINATE_ROLES, may_terminate
from domain.reports.paging import Span, page_count
from domain.reports.records import case_records
from domain.users import service as users_service
from web.answers import recorded
from web.pages.families import FORM_ERROR_STATUS
from web.pages.session import notify
from web.paging import check_page, pagination, read_page
from web.reports import render_page

bp = Blueprint("pages_instances", __name__)

REASON_MIN = 3
REASON_MAX = 500
OPEN_STATUSES = ("active", "incident")
CASE_RECORDS = 20
"""The case page shows the start answers and this many of the latest tasks' records..."""
CASE_EVENTS = 50
"""...and this many of the latest timeline and audit entries; the rest are a link away."""
RECORDS_PAGE = 25
EVENTS_PAGE = 100
"""Entries on each page of a case's records, timeline and audit trail (oldest first)."""


def _page(instance_id: int, **extra: Any) -> str:
    ctx = command_context()
    instance = runtime.get_instance(ctx, instance_id)
    with unit_of_work(ctx.session, keep_loaded=True):  # the read of the answers is audited
        case = case_records(ctx, instance, via="case", span=Span(CASE_RECORDS))
    version = instance.version
    tasks = instance_queries.ready_tasks(ctx, instance.id)
    parent, started = instance_queries.linked(ctx, instance)
    claimers = users_service.display_names(ctx, (t.claimed_by for t in tasks))
    return render_page(
        "instances/instance.html",
        instance=instance,
        version=version,
        elements=instance_report.element_states(instance),
        records=recorded(case),
        parent=parent,
        started=started,
        older_records=case.older,
        tasks=tasks,
        lanes=LANES,
        claimers=claimers,
        timers=instance_queries.timers(ctx, instance.id),
        timeline=instance_report.timeline(ctx, instance, Span(CASE_EVENTS)),
        audit=instance_report.audit_trail(ctx, instance.id, Span(CASE_EVENTS)),
        may_terminate=may_terminate(ctx.actor) and instance.status in OPEN_STATUSES,
        bpmn_url=url_for(
            "pages_dashboard.version_diagram", key=version.definition.key, number=version.number
        ),
        status_url=url_for("pages_instances.instance_status", instance_id=instance.id),
        reason_max=REASON_MAX,
        agency_names=agencies.names_by_code(ctx),
        **extra,
    )


@bp.get("/instances/<int:instance_id>")
@requires_role()
def instance_page(instance_id: int) -> str:
    """Show one case process: where it is, what is open, what happened and who did it."""
    return _page(instance_id, errors=[], reason="", confirm=False)


@bp.get("/instances/<int:instance_id>/status.json")
@requires_role()
def instance_status(instance_id: int) -> Response:
    """The diagram status of one instance: completed and active element ids."""
    instance = runtime.get_instance(command_context(), instance_id)
    return jsonify(instance_report.status_json(instance))


@bp.post("/instances/<int:instance_id>/terminate")
@requires_role(*TERMINATE_ROLES)
def terminate(instance_id: int) -> tuple[str, int] | BaseResponse:
    """End a process early with a reason; the reason and a confirmation are both required."""
    reason = request.form.get("reason", "").strip()
    confirmed = request.form.get("confirm") == "yes"
    errors = []
    if len(reason) < REASON_MIN:
        errors.append(FieldError("#/reason", "reason", "Enter why the process is being ended"))
    elif len(reason) > REASON_MAX:
        message = f"The reason must be {REASON_MAX} characters or fewer"
        errors.append(FieldError("#/reason", "reason", message))
    if not confirmed:
        message = "Confirm that you want to end this process"
        errors.append(FieldError("#/confirm", "confirm", message))
    if errors:
        page = _page(instance_id, errors=errors, reason=reason, confirm=confirmed)
        return page, FORM_ERROR_STATUS
    ctx = command_context()
    with unit_of_work(ctx.session):
        instance = runtime.terminate(ctx, instance_id=instance_id, reason=reason)
        reference = instance.reference or str(instance.id)
    notify("success", f"{reference} was ended", "Its open tasks and timers were withdrawn.")
    return redirect(url_for("pages_instances.instance_page", instance_id=instance_id))


@bp.get("/instances/<int:instance_id>/records")
@requires_role()
def records_page(instance_id: int) -> str:
    """Everything recorded on a case, a page at a time, oldest first (the read is audited)."""
    ctx = command_context()
    page = read_page(request.args)
    instance = runtime.get_instance(ctx, instance_id)
    with unit_of_work(ctx.session, keep_loaded=True):
        case = case_records(ctx, instance, via="records", span=Span(RECORDS_PAGE, page))
    return _history_page(
        "records", instance, page, page_count(case.tasks, RECORDS_PAGE), records=recorded(case)
    )


@bp.get("/instances/<int:instance_id>/timeline")
@requires_role()
def timeline_page(instance_id: int) -> str:
    """A case's whole timeline, a page at a time, oldest first."""
    ctx = command_context()
    page = read_page(request.args)
    instance = runtime.get_instance(ctx, instance_id)
    timeline = instance_report.timeline(ctx, instance, Span(EVENTS_PAGE, page))
    pages = page_count(timeline.total, EVENTS_PAGE)
    return _history_page("timeline", instance, page, pages, timeline=timeline)


@bp.get("/instances/<int:instance_id>/audit")
@requires_role()
def audit_page(instance_id: int) -> str:
    """A case's whole audit trail, a page at a time, oldest first."""
    ctx = command_context()
    page = read_page(request.args)
    instance = runtime.get_instance(ctx, instance_id)
    audit = instance_report.audit_trail(ctx, instance.id, Span(EVENTS_PAGE, page))
    return _history_page("audit", instance, page, page_count(audit.total, EVENTS_PAGE), audit=audit)


def _history_page(kind: str, instance: Any, page: int, pages: int, **extra: Any) -> str:
    """One page of a case's records, timeline or audit trail (`kind`); a page after the last
    is a 404."""
    check_page(page, pages)

    def href(number: int) -> str:
        return url_for(f"pages_instances.{kind}_page", instance_id=instance.id, page=number)

    return render_page(
        f"instances/{kind}.html",
        instance=instance,
        process_title=instance.version.definition.title,
        page=page,
        pages=pages,
        paging=pagination(page, pages, href, "Pages"),
        **extra,
    )
