"""Process pages: each process's versions and open cases, and the parameters (timescales and
switches) its diagrams read, which process owners change here without touching a diagram.

Routes: GET /processes, GET and POST /processes/deploy, GET /processes/<key>, GET and POST
/processes/<key>/parameters/<name>.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from api.common.auth import requires_role
from api.common.context import command_context
from domain.agencies import service as agencies
from domain.context import Context
from domain.db import unit_of_work
from domain.errors import ConflictError, ProcessDefinitionError, ValidationFailedError
from domain.forms import FieldError
from domain.lanes import PROCESS_OWNER
from domain.processes import bundles, definitions
from domain.processes.parameter_titles import parameter_title
from domain.reports import processes
from domain.reports.access import REPORT_ROLES
from web.formrender import check_submission
from web.pages.families import FAMILY_FORM, FORM_ERROR_STATUS, render_form_page
from web.pages.session import notify
from web.reports import render_page

bp = Blueprint("pages_processes", __name__)

FIELD = "value"
TEXT_MAX = 200


def label(name: str) -> str:
    """A parameter as a heading: "stage1_days" reads "Working days for stage 1 (practitioners)"."""
    return parameter_title(name)


def shown(value: Any) -> str:
    """A parameter's value as people read it."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "Not set"
    return str(value)


def editable(default: Any) -> bool:
    """Whether the page can ask for this parameter (lists and objects go through the API)."""
    return default is None or isinstance(default, bool | int | float | str)


@bp.get("/processes")
@requires_role(*REPORT_ROLES)
def process_list() -> str:
    """Every deployed process: its latest version, how many versions, its open cases."""
    ctx = command_context()
    return render_page(
        "processes/list.html",
        processes=processes.process_lines(ctx),
        may_deploy=ctx.actor is not None and ctx.actor.has_role(PROCESS_OWNER),
    )


@bp.route("/processes/deploy", methods=["GET", "POST"])
@requires_role(PROCESS_OWNER)
def deploy() -> tuple[str, int] | Response:
    """Deploy a bundle (a BPMN file and the forms it names) as a new version of its process,
    or show every problem that stops it, as the API does."""
    if request.method == "GET":
        return render_page("processes/deploy.html", problems=[]), 200
    ctx = command_context()
    uploads = [u for u in request.files.getlist("files") if u.filename]
    try:
        bundles.check_file_count(len(uploads))  # before any is read
        bpmn, forms = bundles.sort_uploads([(u.filename or "", u.read()) for u in uploads])
        with unit_of_work(ctx.session):
            version, created = definitions.deploy(ctx, key=None, bpmn_files=bpmn, forms=forms)
            key, number, title = version.definition.key, version.number, version.definition.title
    except ProcessDefinitionError as exc:
        problems = _problems(exc.problems)
    except ValidationFailedError as exc:
        problems = _problems(exc.errors)
    except ConflictError as exc:  # another version deployed at the same moment
        problems = [str(exc)]
    else:
        if created:
            notify("success", f"Version {number} of {title} is deployed", NEW_VERSION)
        else:
            notify("important", f"Nothing changed: version {number} of {title} is the same")
        return redirect(url_for("pages_processes.process_page", key=key) + "#versions")
    return render_page("processes/deploy.html", problems=problems), FORM_ERROR_STATUS


NEW_VERSION = "New cases start on it; cases already running stay on the version they started on."


def _problems(found: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each problem as one line for the process owner: where it is, then what is wrong."""
    lines = []
    for problem in found:
        where = [
            str(problem[part]) if part == "file" else f"{label} {problem[part]}"
            for part, label in (("file", ""), ("line", "line"))
            if problem.get(part)
        ]
        if problem.get("element_name"):  # its name in the diagram, then its id
            where.append(f"“{problem['element_name']}” ({problem.get('element_id')})")
        elif problem.get("element_id"):
            where.append(f"element {problem['element_id']}")
        message = str(problem.get("message") or problem.get("detail") or "")
        lines.append(f"{', '.join(where)}: {message}" if where else message)
    return lines


@bp.get("/processes/<key>")
@requires_role(*REPORT_ROLES)
def process_page(key: str) -> str:
    """One process: its versions with their open cases, and its parameters."""
    ctx = command_context()
    return render_page(
        "processes/process.html",
        process=processes.process_detail(ctx, key),
        may_change=ctx.actor is not None and ctx.actor.has_role(PROCESS_OWNER),
        label=label,
        shown=shown,
        editable=editable,
        names_an_agency=definitions.names_an_agency,
        agency_names=agencies.names_by_code(ctx),
    )


@bp.route("/processes/<key>/parameters/<name>", methods=["GET", "POST"])
@requires_role(PROCESS_OWNER)
def change_parameter(key: str, name: str) -> tuple[str, int] | Response:
    """Change one parameter; it applies from now on, to new and running cases alike."""
    ctx = command_context()
    title = definitions.get_definition(ctx, key).title
    line = processes.parameter_line(ctx, key, name)
    if line is None or not editable(line.default):
        raise NotFound()
    back = url_for("pages_processes.process_page", key=key) + "#parameters"
    schema = _schema(ctx, line)
    page = {
        "title": f"Change: {label(name)}",
        "caption": title,
        "back_url": back,
        "button": "Save",
        "intro": "The new value applies from now on, to new and running cases alike, "
        "wherever the process next reads it. Deadlines already set keep their dates.",
        "once": False,  # saving the same value twice changes nothing
    }
    if request.method == "GET":
        return render_form_page(FAMILY_FORM, page, schema, {FIELD: line.value}, [])
    data, errors = check_submission(schema, request.form)
    if not errors:
        try:
            with unit_of_work(ctx.session):
                value = definitions.set_parameter(ctx, key=key, name=name, value=data[FIELD])
            if type(value) is type(line.value) and value == line.value:
                notify("important", f"{label(name)} was already {shown(value)}: nothing changed")
            else:
                notify("success", f"{label(name)} is now {shown(value)}")
            return redirect(back)
        except ValidationFailedError as exc:  # e.g. the diagram's default changed meanwhile
            errors = [FieldError(f"#/{FIELD}", FIELD, str(exc))]
        except ConflictError as exc:  # changed by someone else at the same moment
            notify("important", str(exc))
            return redirect(back)
    return render_form_page(FAMILY_FORM, page, schema, data, errors, FORM_ERROR_STATUS)


def _schema(ctx: Context, line: processes.ParameterLine) -> dict[str, Any]:
    """The one question of a parameter's page, of the type of the diagram's default."""
    question: dict[str, Any] = {
        "title": label(line.name),
        "description": f"The diagram's default is {shown(line.default)}.",
    }
    default = line.default
    if isinstance(default, bool):
        question["type"] = "boolean"
    elif isinstance(default, int | float):
        question.update(
            type="integer" if isinstance(default, int) else "number",
            minimum=definitions.NUMBER_MIN,
            maximum=definitions.NUMBER_MAX,
        )
    elif definitions.names_an_agency(line.name):
        named = {a.code: a.name for a in agencies.list_agencies(ctx)}
        question.update(
            type="string",
            enum=list(named),
            **{"x-enum-labels": list(named.values()), "x-widget": "select"},
        )
    else:
        question.update(type="string", maxLength=TEXT_MAX)
    return {"type": "object", "properties": {FIELD: question}, "required": [FIELD]}
