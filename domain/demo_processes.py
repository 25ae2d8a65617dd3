"""Drive shipped processes for demo data: fill forms from their JSON Schemas, act as the right user.

Answers come from each form's schema (first choice, today's date, a short fictional text), with
per-task overrides from the demo plan, so the demo keeps working as the forms evolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select

from domain import errors
from domain.context import Actor, Context
from domain.forms import validate_form
from domain.processes import definitions, runtime
from domain.processes import instances as instance_queries
from domain.processes.models import HumanTask, ProcessInstance
from domain.processes.tasks import can_work

SYSTEM_KEYS = frozenset({"started_by", "started_by_agency", "parent_reference"})
DEMO_TEXT = "Demo data: a fictional entry for training."
_PASSES = 4


@dataclass(frozen=True)
class ProcessPlan:
    """Start one process for a demo family and complete some of its tasks."""

    key: str
    starter: str
    """Username of the demo user who starts it."""
    tasks: int
    """How many tasks to complete (fewer if the process waits on a timer or ends)."""
    start: Mapping[str, Any] = field(default_factory=dict)
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Answers by task element id (or form key) overriding the generated ones."""
    skip: tuple[str, ...] = ()
    """Task element ids to leave for a person to do (e.g. recording a meeting)."""


@dataclass(frozen=True)
class FormFacts:
    """What generated answers may draw on."""

    today: date
    choices: Mapping[str, Sequence[Any]]
    """Values for `x-options-from` sources (e.g. agencies) and for lists of ids."""


def fill_form(
    schema: Mapping[str, Any] | None, given: Mapping[str, Any], facts: FormFacts
) -> dict[str, Any]:
    """Return answers valid for `schema`: the given ones plus generated required ones."""
    if schema is None:
        return {k: v for k, v in given.items() if k not in SYSTEM_KEYS}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    data = {k: v for k, v in given.items() if k in properties and k not in SYSTEM_KEYS}
    for name in schema.get("required") or []:
        if name in properties and name not in data and name not in SYSTEM_KEYS:
            data[name] = sample(properties[name], facts)
    for _ in range(_PASSES):
        problems = validate_form(schema, data)
        names = {p.pointer.split("/")[1] for p in problems if p.pointer.count("/") >= 1}
        fixable = [n for n in names if n in properties and n not in SYSTEM_KEYS and n not in given]
        if not fixable:
            break
        for name in fixable:
            data[name] = sample(properties[name], facts)
    return data


def sample(prop: Mapping[str, Any], facts: FormFacts) -> Any:
    """Generate one valid-looking answer for a question."""
    if "const" in prop:
        return prop["const"]
    if prop.get("type") == "array":
        return _sample_list(prop, facts)
    if prop.get("enum"):
        return prop["enum"][0]
    source = prop.get("x-options-from")
    if source is not None:
        options = list(facts.choices.get(source) or ["demo"])
        return _as(prop, options[0])
    kind = prop.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return prop.get("minimum", 1)
    if prop.get("format") == "date":
        return facts.today.isoformat()
    text = DEMO_TEXT[: int(prop.get("maxLength", len(DEMO_TEXT)))]
    return text.ljust(int(prop.get("minLength", 0)), ".")


def _sample_list(prop: Mapping[str, Any], facts: FormFacts) -> list[Any]:
    items: Mapping[str, Any] = prop.get("items") or {}
    count = max(1, int(prop.get("minItems", 1)))
    source = prop.get("x-options-from") or items.get("x-options-from")
    if source is not None:
        options = list(facts.choices.get(source) or ["demo"])
        return [_as(items, v) for v in options[: max(count, 2)]]
    if items.get("enum"):
        return list(items["enum"][:count])
    if items.get("type") == "object":
        return [fill_form(items, {}, facts) for _ in range(count)]
    return [sample(items, facts) for _ in range(count)]


def _as(prop: Mapping[str, Any], value: Any) -> Any:
    """Convert a choice to the question's type (ids are offered as strings or integers)."""
    kind = prop.get("type")
    if kind == "string":
        return str(value)
    if kind == "integer" and str(value).isdigit():
        return int(value)
    return value


def find_started(ctx: Context, *, family_id: int, key: str) -> ProcessInstance | None:
    """Return this family's instance of the process, if the demo started one already."""
    query = select(ProcessInstance).where(
        ProcessInstance.family_id == family_id, ProcessInstance.process_key == key
    )
    return ctx.session.scalars(query.limit(1)).first()


def run_plan(
    ctx: Context,
    plan: ProcessPlan,
    *,
    family_id: int,
    start: Mapping[str, Any],
    actors: Mapping[str, Actor],
    facts: FormFacts,
) -> str:
    """Start the process as the plan's starter and complete tasks as users who may work them."""
    if find_started(ctx, family_id=family_id, key=plan.key) is not None:
        return "already started"
    version = definitions.latest_version(ctx, plan.key)
    schema = version.forms.get(version.start_form) if version.start_form else None
    data = fill_form(schema, {**start, **plan.start}, facts)
    instance = runtime.start_process(
        replace(ctx, actor=actors[plan.starter]), process_key=plan.key, data=data
    )
    done = 0
    for _ in range(plan.tasks):
        outcome = _complete_next(ctx, instance, plan, actors, facts)
        if outcome is not None:
            return f"{instance.reference} started; {done} task(s) completed; {outcome}"
        done += 1
    stage = instance.current_stage or instance.status
    return f"{instance.reference} started; {done} task(s) completed; now at: {stage}"


def _complete_next(
    ctx: Context,
    instance: ProcessInstance,
    plan: ProcessPlan,
    actors: Mapping[str, Actor],
    facts: FormFacts,
) -> str | None:
    ready: Sequence[HumanTask] = [
        t for t in instance_queries.ready_tasks(ctx, instance.id) if t.element_id not in plan.skip
    ]
    if not ready:
        return f"now at: {instance.current_stage or instance.status}"
    task = ready[0]
    actor = next((a for a in actors.values() if can_work(a, task)), None)
    if actor is None:
        return f"no demo user can work {task.element_id}"
    form = instance.version.forms.get(task.form_key) if task.form_key else None
    answers = plan.answers.get(task.element_id) or plan.answers.get(task.form_key or "") or {}
    data = fill_form(form, answers, facts)
    try:
        runtime.complete_task(replace(ctx, actor=actor), task_id=task.id, data=data)
    except errors.ValidationFailedError as exc:
        fields = ", ".join(sorted({str(e.get("field") or e["pointer"]) for e in exc.errors}))
        return f"stopped at {task.element_id}: generated answers not accepted ({fields})"
    return None
