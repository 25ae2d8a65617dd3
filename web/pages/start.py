"""Pages: start a process (a referral, an MDT meeting, an escalation, early help).

Routes: GET /start · GET, POST /start/<process_key>.

The start form is the latest version's `start_form` schema. The system fields (`started_by`,
`started_by_agency`, `parent_reference`) are filled by the server and never shown. `family_id`
and `subject_person_ids` are chosen from the family record: pick a family (`?family_id=`, or
search by reference or name), then tick the children concerned.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from domain import errors
from domain.context import Context
from domain.db import record_id, unit_of_work
from domain.families import ages
from domain.families import service as families
from domain.families.models import Family
from domain.forms import FieldError, enum_choices, field_message, sort_errors
from domain.lanes import PRACTITIONER, TEAM_MANAGER
from domain.processes import definitions, runtime
from domain.processes import instances as instance_queries
from domain.processes import tasks as task_service
from domain.processes.choices import dynamic_choices, family_order
from domain.processes.models import ProcessInstance, ProcessVersion
from domain.submissions import service as submissions
from web import resend
from web.formrender import build_fields, check_submission
from web.pages.inbox import process_title
from web.pages.session import notify, page_context, require_role
from web.pages.tasks import errors_from

bp = Blueprint("pages_start", __name__)

STARTERS = (PRACTITIONER, TEAM_MANAGER)
SYSTEM_KEYS = frozenset(runtime.SYSTEM_KEYS)
FAMILY_KEY = "family_id"
SUBJECTS_KEY = "subject_person_ids"
FAMILY_KEYS = frozenset({FAMILY_KEY, SUBJECTS_KEY})
SEARCH_LIMIT = 20
PREFILL_KINDS = ("string",)


@dataclass(frozen=True, slots=True)
class StartOption:
    """One way to start work, as listed on /start."""

    key: str
    title: str
    description: str
    query: Mapping[str, str] | None = None


SHIPPED = (
    StartOption(
        "referral",
        "Make a referral",
        "Tell children's social care about a concern that a child may need help or protection.",
    ),
    StartOption(
        "mdt_meeting",
        "Request a multi-agency (MDT) meeting",
        "Bring agencies together when you are unsure what is happening for a child, agencies "
        "disagree, or progress has stalled.",
    ),
    StartOption(
        "escalation",
        "Raise an escalation",
        "Use this when you disagree with another agency's decision, action or inaction about "
        "a child.",
    ),
    StartOption(
        "early_help",
        "Start early help",
        "Offer early help to a family who agree to it, with a lead practitioner and a plan.",
    ),
)


# --- the start form ------------------------------------------------------------------------


def start_schema(version: ProcessVersion) -> dict[str, Any] | None:
    """Return the start form of a version, or None when the process has none."""
    if not version.start_form:
        return None
    schema = version.forms.get(version.start_form)
    return copy.deepcopy(dict(schema)) if schema is not None else None


def shown_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The start form without the fields the server fills or the family picker provides."""
    hidden = SYSTEM_KEYS | FAMILY_KEYS
    shown = copy.deepcopy(dict(schema))
    shown["properties"] = {
        k: v for k, v in (schema.get("properties") or {}).items() if k not in hidden
    }
    shown["required"] = [k for k in schema.get("required") or [] if k not in hidden]
    return shown


def uses_family(schema: Mapping[str, Any] | None) -> bool:
    """Return whether the start form asks for a family or the people concerned."""
    return schema is not None and bool(FAMILY_KEYS & set(schema.get("properties") or {}))


def _route_value(schema: Mapping[str, Any] | None) -> str | None:
    """Return the early-help `route` value for a disabled child, if the form offers one."""
    if schema is None:
        return None
    prop = (schema.get("properties") or {}).get("route")
    if not isinstance(prop, Mapping):
        return None
    for value, label in enum_choices(prop):
        if "disab" in f"{value} {label}".lower():
            return value
    return ""


def _int(value: Any) -> int | None:
    return record_id(value.strip() if isinstance(value, str) else value)


def _latest(ctx: Context, key: str) -> ProcessVersion | None:
    try:
        return definitions.latest_version(ctx, key)
    except errors.NotFoundError:
        return None


# --- the list of ways to start -------------------------------------------------------------


@bp.get("/start")
def start_list() -> str:
    """List the processes a practitioner can start, with an optional family carried through."""
    require_role(*STARTERS)
    ctx = page_context()
    family_id = _int(request.args.get("family_id"))
    family = _family_or_none(ctx, family_id)
    carried = {"family_id": str(family.id)} if family else {}
    options: list[dict[str, Any]] = []
    shipped_keys = {o.key for o in SHIPPED}
    for option in SHIPPED:
        version = _latest(ctx, option.key)
        if version is None:
            continue
        options.append(_option_link(option, carried))
        if option.key == "early_help":
            route = _route_value(start_schema(version))
            if route is not None:
                query = {"route": route} if route else {}
                disabled = StartOption(
                    "early_help",
                    "Support for a disabled child",
                    "Start early help for a disabled child and their family.",
                    query,
                )
                options.append(_option_link(disabled, carried))
    for definition in definitions.list_definitions(ctx):
        if definition.key in shipped_keys or not definition.versions:
            continue
        options.append(
            _option_link(StartOption(definition.key, process_title(definition), ""), carried)
        )
    return render_template("start/list.html", options=options, family=family)


def _start_url(process_key: str, query: Mapping[str, str]) -> str:
    path = url_for("pages_start.start_form", process_key=process_key)
    return f"{path}?{urlencode(query)}" if query else path


def _option_link(option: StartOption, carried: Mapping[str, str]) -> dict[str, Any]:
    query = {**carried, **(option.query or {})}
    return {
        "title": option.title,
        "description": option.description,
        "href": _start_url(option.key, query),
    }


# --- one process's start page --------------------------------------------------------------


def _family_or_none(ctx: Context, family_id: int | None) -> Family | None:
    if family_id is None:
        return None
    try:
        return families.get_family(ctx, family_id)
    except errors.NotFoundError:
        return None


def _parent(ctx: Context, raw: Any) -> ProcessInstance | None:
    instance_id = _int(raw)
    if instance_id is None:
        return None
    try:
        return runtime.get_instance(ctx, instance_id)
    except errors.NotFoundError:
        return None


def _member_items(
    ctx: Context, family: Family | None, chosen: Sequence[str]
) -> list[dict[str, Any]]:
    """Checkbox items for the children concerned: the household's children (the unborn
    included), under-5s first. Adults are not offered: these processes are about children."""
    if family is None:
        return []
    today = ages.local_today(ctx)
    people = [p for p in families.members_of(ctx, family.id) if ages.is_child(p, today)]
    people.sort(key=lambda p: family_order(p, today))
    return [
        {
            "value": str(p.id),
            "text": f"{p.given_name} {p.family_name}",
            "hint": {"text": ages.age_label(p, today)},
            "checked": str(p.id) in chosen,
        }
        for p in people
    ]


def _prefill(shown: Mapping[str, Any]) -> dict[str, Any]:
    """Answers passed in the query string (e.g. `?route=` from the start list)."""
    values: dict[str, Any] = {}
    for name, prop in (shown.get("properties") or {}).items():
        raw = request.args.get(name)
        if raw and isinstance(prop, Mapping) and prop.get("type") in PREFILL_KINDS:
            values[name] = raw[:200]
    return values


@bp.route("/start/<process_key>", methods=["GET", "POST"])
def start_form(process_key: str) -> ResponseReturnValue:
    """Show a process's start form (after choosing the family); on POST start the process."""
    actor = require_role(*STARTERS)
    ctx = page_context()
    version = definitions.latest_version(ctx, process_key)
    schema = start_schema(version)
    parent = _parent(ctx, request.values.get("parent"))
    family_id = _int(request.values.get(FAMILY_KEY))
    if family_id is None and parent is not None:
        family_id = parent.family_id
    family = _family_or_none(ctx, family_id)
    if uses_family(schema) and family is None:
        return _family_picker(ctx, version, parent, bad_reference=family_id is not None)
    shown = shown_schema(schema) if schema else None
    choices = dynamic_choices(ctx, shown, family.id if family else None)
    if request.method == "GET":
        values = _prefill(shown) if shown else {}
        return _render_form(ctx, version, schema, shown, family, parent, values, [], [], choices)
    data: dict[str, Any] = {}
    problems: list[FieldError] = []
    if shown is not None:
        data, problems = check_submission(shown, request.form, choices, ages.local_today(ctx))
    chosen = [v for v in request.form.getlist(SUBJECTS_KEY) if v.strip()]
    problems = _family_problems(ctx, schema, family, chosen) + problems
    if schema is not None:
        problems = sort_errors(schema, problems)
    if problems:
        return _render_form(
            ctx, version, schema, shown, family, parent, data, chosen, problems, choices
        )
    properties = (schema or {}).get("properties") or {}
    if family is not None and FAMILY_KEY in properties:
        data[FAMILY_KEY] = family.id
    if SUBJECTS_KEY in properties and chosen:
        data[SUBJECTS_KEY] = [int(v) for v in chosen]
    if parent is not None:
        data["parent_reference"] = parent.reference or ""
    token = resend.sent_token()
    earlier = resend.earlier_result(ctx, token)
    if earlier is not None:  # sent twice: the case was started by the first sending
        return earlier
    try:
        with unit_of_work(ctx.session):
            instance = runtime.start_process(
                ctx,
                process_key=process_key,
                data=data,
                parent_instance_id=parent.id if parent else None,
            )
            instance_id, reference = instance.id, instance.reference
            result = f"/instances/{instance_id}"
            for task in instance_queries.ready_tasks(ctx, instance_id):
                if task_service.can_work(actor, task):
                    result = f"/tasks/{task.id}"
                    break
            submissions.record(ctx, token, result)
    except errors.ValidationFailedError as exc:
        found = errors_from(exc, schema or {})
        return _render_form(
            ctx, version, schema, shown, family, parent, data, chosen, found, choices
        )
    except errors.DefinitionProblemError as exc:  # the answers are shown again, not lost
        found = [FieldError("", "", exc.detail)]
        return _render_form(
            ctx, version, schema, shown, family, parent, data, chosen, found, choices
        )
    except submissions.AlreadySentError:  # sent twice at once: the other sending started it
        return resend.earlier_result(ctx, token) or redirect("/tasks")
    notify(
        "success",
        f"{process_title(version.definition)} started: {reference}",
        href=f"/instances/{instance_id}",
        link_text=f"View case {reference}",
    )
    return redirect(result)


def _family_problems(
    ctx: Context, schema: Mapping[str, Any] | None, family: Family | None, chosen: Sequence[str]
) -> list[FieldError]:
    """Check the people ticked: members of the chosen family, and at least one if required."""
    if schema is None:
        return []
    properties = schema.get("properties") or {}
    prop = properties.get(SUBJECTS_KEY)
    if prop is None:
        return []
    pointer = f"#/{SUBJECTS_KEY}"
    members = {str(p.id) for p in families.members_of(ctx, family.id)} if family else set()
    if any(value not in members for value in chosen):
        return [FieldError(pointer, SUBJECTS_KEY, "Select people from this family")]
    required = SUBJECTS_KEY in (schema.get("required") or []) or prop.get("minItems", 0) > 0
    if required and not chosen:
        return [FieldError(pointer, SUBJECTS_KEY, field_message(prop, "required"))]
    return []


def _render_form(
    ctx: Context,
    version: ProcessVersion,
    schema: dict[str, Any] | None,
    shown: dict[str, Any] | None,
    family: Family | None,
    parent: ProcessInstance | None,
    values: Mapping[str, Any],
    chosen: Sequence[str],
    problems: Sequence[FieldError],
    choices: Mapping[str, Sequence[tuple[str, str]]],
) -> ResponseReturnValue:
    fields = build_fields(shown, values, problems, choices) if shown else None
    subjects_prop = ((schema or {}).get("properties") or {}).get(SUBJECTS_KEY)
    subjects_error = next((p.message for p in problems if p.field == SUBJECTS_KEY), "")
    return render_template(
        "start/form.html",
        version=version,
        process_key=version.definition.key,
        title=(schema or {}).get("title") or process_title(version.definition),
        description=(schema or {}).get("description") or "",
        fields=fields,
        errors=list(problems),
        family=family,
        parent=parent,
        subjects_prop=subjects_prop,
        subjects_error=subjects_error,
        member_items=_member_items(ctx, family, chosen),
    )


def _family_picker(
    ctx: Context,
    version: ProcessVersion,
    parent: ProcessInstance | None,
    *,
    bad_reference: bool,
) -> ResponseReturnValue:
    """Choose the family: by exact reference (straight through) or by searching names."""
    key = version.definition.key
    query = request.args.get("q", "").strip()[:100]
    carried = {"parent": str(parent.id)} if parent else {}
    for name in ("route",):
        if request.args.get(name):
            carried[name] = request.args.get(name, "")[:200]
    results: Sequence[Family] = []
    error = "No family was found. Check the reference and try again." if bad_reference else ""
    if query:
        exact = families.find_family_by_reference(ctx, query.upper())
        if exact is not None:
            return redirect(_start_url(key, {"family_id": str(exact.id), **carried}))
        results = families.list_families(ctx, search=query, limit=SEARCH_LIMIT)
        if not results:
            error = "No family matches that reference or name"
    rows = [
        {
            "family": family,
            "members": len(families.members_of(ctx, family.id)),
            "href": _start_url(key, {"family_id": str(family.id), **carried}),
        }
        for family in results
    ]
    return render_template(
        "start/family.html",
        version=version,
        process_key=key,
        title=process_title(version.definition),
        query=query,
        rows=rows,
        error=error,
        errors=[{"text": error, "href": "#q"}] if error else [],
        carried=carried,
    )
