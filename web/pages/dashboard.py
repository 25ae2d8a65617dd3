"""The team manager dashboard, process heatmaps and the diagram files the viewer loads."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from api.common.auth import requires_role
from api.common.context import command_context
from domain.processes import definitions
from domain.reports import cases, compliance, escalation_log, heatmap, workload
from domain.reports.access import REPORT_ROLES, ensure_can_view_reports
from web.reports import render_page

bp = Blueprint("pages_dashboard", __name__)

ALL_AGENCIES = "all"


@bp.get("/dashboard")
@requires_role(*REPORT_ROLES)
def dashboard() -> str:
    """Open cases by process and stage, work due, escalations, timescales and data quality."""
    ctx = command_context()
    ensure_can_view_reports(ctx)
    all_agencies = request.args.get("agencies") == ALL_AGENCIES
    processes = workload.open_counts(ctx)
    log = escalation_log.escalation_log(ctx)
    theme_rows = [(theme.replace("_", " ").capitalize(), count) for theme, count in log.themes]
    return render_page(
        "dashboard/dashboard.html",
        processes=processes,
        open_total=sum(p.total for p in processes),
        due=workload.due_work(ctx, all_agencies=all_agencies),
        due_limit=workload.DUE_WORK_LIMIT,
        all_agencies=all_agencies,
        escalations=workload.escalation_counts(ctx),
        escalation_log=log,
        theme_rows=theme_rows,
        timescales=compliance.timescale_compliance(ctx),
        ethnicity=compliance.ethnicity_quality(ctx),
        agency_code=ctx.actor.agency_code if ctx.actor else None,
    )


@bp.get("/processes/<key>/cases")
@requires_role(*REPORT_ROLES)
def open_cases(key: str) -> str:
    """The open cases behind a count: a process's, at one stage (?stage=) or step (?step=)."""
    ctx = command_context()
    ensure_can_view_reports(ctx)
    stage = request.args.get("stage") or None
    step = request.args.get("step") or None
    return render_page(
        "dashboard/cases.html",
        found=cases.open_cases(ctx, key, stage=stage, step=step),
        limit=cases.CASES_LIMIT,
    )


@bp.get("/processes/<key>/heatmap")
@requires_role(*REPORT_ROLES)
def process_heatmap(key: str) -> str:
    """The latest diagram of a process with the number of open cases at each element."""
    ctx = command_context()
    ensure_can_view_reports(ctx)
    found = heatmap.heatmap(ctx, key)
    return render_page(
        "dashboard/heatmap.html",
        heatmap=found,
        bpmn_url=url_for("pages_dashboard.version_diagram", key=key, number=found.version.number),
        status_url=url_for("pages_dashboard.heatmap_json", key=key),
    )


@bp.get("/processes/<key>/heatmap.json")
@requires_role(*REPORT_ROLES)
def heatmap_json(key: str) -> Response:
    """The heatmap as the diagram viewer reads it: open cases per element id."""
    ctx = command_context()
    ensure_can_view_reports(ctx)
    found = heatmap.heatmap(ctx, key)
    return jsonify({"completed": [], "active": [], "counts": found.counts})


@bp.get("/processes/<key>/versions/<int:number>/diagram.bpmn")
@requires_role()
def version_diagram(key: str, number: int) -> Response:
    """The stored BPMN XML of one process version (versions never change once deployed)."""
    version = definitions.get_version(command_context(), key, number)
    response = Response(heatmap.diagram_xml(version), mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
