"""Run process instances: start, complete tasks, fire timers, terminate. Never commits."""

from __future__ import annotations

import copy
import logging
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from domain import errors
from domain.audit import service as audit
from domain.context import Context
from domain.db import projected_ready_rows, record_id
from domain.families import service as families
from domain.families.ages import local_today
from domain.families.models import Family
from domain.forms import validate_form
from domain.processes import choices, definitions, rows
from domain.processes.assignees import check_assignees
from domain.processes.models import HumanTask, ProcessInstance, ProcessVersion
from domain.processes.outbox import handle_service_calls
from engine import CompiledProcess, ProcessState, ScriptError, StateError, TaskNotReadyError

log = logging.getLogger(__name__)

SUMMARY_KEYS = (
    "stage",
    "decision",
    "outcome",
    "category",
    "stage_reached",
    "resolved_at_stage",
    "theme",
    "outcome_statement",
    "responses",
    "not_attending",
    "urgent",
    "route",
)
DEPTH_WARNING = 600
REFERENCE_PREFIX = {
    "referral": "REF",
    "early_help": "EH",
    "mdt_meeting": "MDT",
    "escalation": "ESC",
}
SYSTEM_KEYS = ("started_by", "started_by_agency", "parent_reference")


def pack(serialized: str) -> bytes:
    """Compress engine state for storage."""
    return zlib.compress(serialized.encode(), 6)


def unpack(state: bytes) -> str:
    """Decompress stored engine state."""
    return zlib.decompress(state).decode()


def _check_form(
    ctx: Context, schema: Mapping[str, Any] | None, data: Mapping[str, Any], family_id: int | None
) -> None:
    if schema is None:
        return
    options = choices.dynamic_choices(ctx, schema, family_id)
    problems = validate_form(schema, data, dynamic_choices=options, today=local_today(ctx))
    if problems:
        raise errors.ValidationFailedError(
            "The form is not valid.",
            [{"pointer": p.pointer, "field": p.field, "detail": p.message} for p in problems],
        )


def start_process(
    ctx: Context,
    *,
    process_key: str,
    data: Mapping[str, Any],
    parent_instance_id: int | None = None,
) -> ProcessInstance:
    """Start the latest version of a process with validated start data."""
    version = definitions.latest_version(ctx, process_key)
    compiled = definitions.compiled_of(version)
    payload = {k: v for k, v in data.items() if k not in SYSTEM_KEYS}
    if compiled.start_form:
        _check_form(
            ctx,
            _without_system_keys(compiled.forms.get(compiled.start_form)),
            payload,
            record_id(payload.get("family_id")),
        )
    family_id, subject_ids = _family_and_subjects(
        ctx, payload.get("family_id"), payload.get("subject_person_ids")
    )
    answers = copy.deepcopy(payload)  # as submitted, before the engine sees it
    if ctx.actor is not None:
        payload["started_by"] = ctx.actor.username
        payload["started_by_agency"] = ctx.actor.agency_code
    if data.get("parent_reference"):
        payload["parent_reference"] = str(data["parent_reference"])
    state = _engine_call(
        lambda: ctx.engine.start(compiled, payload, params=definitions.parameters_for(ctx, version))
    )
    start_form = compiled.forms.get(compiled.start_form) if compiled.start_form else None
    check_assignees(ctx, state, answers, start_form)
    now = ctx.now()
    instance = ProcessInstance(
        version_id=version.id,
        process_key=process_key,
        reference=None,
        status="active",
        lock_version=0,
        started_by=ctx.actor.user_id if ctx.actor else None,
        started_agency_id=ctx.actor.agency_id if ctx.actor else None,
        parent_instance_id=parent_instance_id,
        family_id=family_id,
        subject_person_ids=subject_ids,
        started_at=now,
        ended_at=None,
        end_reason=None,
        summary={},
        start_data=answers,
    )
    instance.version = version
    apply_state(ctx, instance, compiled, state, open_rows=[], new=True)
    return instance


def _family_and_subjects(
    ctx: Context, family_id: Any, subject_ids: Any
) -> tuple[int | None, list[int]]:
    """The household a process is about (one that exists) and its subject children (members)."""
    if subject_ids is None:
        subject_ids = []
    subjects = [record_id(p) for p in subject_ids] if isinstance(subject_ids, list) else [None]
    if family_id is None:
        if None in subjects:
            raise _invalid("subject_person_ids", "Choose children by their record ids.")
        return None, [p for p in subjects if p is not None]
    number = record_id(family_id)
    if number is None or ctx.session.get(Family, number) is None:
        raise _invalid("family_id", "No such family.")
    members = {p.id for p in families.members_of(ctx, number)}
    if any(p not in members for p in subjects):
        raise _invalid("subject_person_ids", "Choose children who are members of this family.")
    return number, [p for p in subjects if p is not None]


def _invalid(field: str, detail: str) -> errors.ValidationFailedError:
    return errors.ValidationFailedError(
        "The form is not valid.", [{"pointer": f"#/{field}", "field": field, "detail": detail}]
    )


_TRIMMED: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}


def _without_system_keys(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The start form as the caller fills it: the API adds the system keys itself.

    Kept per start form object (forms come from cached versions), so its validator is reused.
    """
    if schema is None:
        return None
    cached = _TRIMMED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    trimmed = dict(schema)
    trimmed["properties"] = {
        k: v for k, v in (schema.get("properties") or {}).items() if k not in SYSTEM_KEYS
    }
    trimmed["required"] = [k for k in schema.get("required") or [] if k not in SYSTEM_KEYS]
    if len(_TRIMMED) >= 256:
        _TRIMMED.clear()
    _TRIMMED[id(schema)] = (schema, trimmed)
    return trimmed


def _engine_call(call: Any) -> ProcessState:
    try:
        result: ProcessState = call()
    except TaskNotReadyError as exc:
        raise errors.ConflictError("The task is no longer awaiting input.") from exc
    except ScriptError as exc:
        log.error("engine script error: %s", exc)
        raise errors.DefinitionProblemError(
            "The process could not move on because of a problem in the process definition "
            f"({exc.error_type} at {exc.element_id or 'an unknown element'}). Nothing was "
            "saved. Tell a process owner, quoting this message."
        ) from exc
    except StateError as exc:
        log.error("stored state could not be loaded: %s", exc)
        raise errors.ConflictError("The stored case state could not be loaded.") from exc
    return result


def complete_task(
    ctx: Context, *, task_id: int, data: Mapping[str, Any], expected_version: int | None = None
) -> HumanTask:
    """Complete a ready task with form data validated against its JSON Schema."""
    from domain.processes import tasks as task_service

    task, open_rows = task_service.get_task_for_work(ctx, task_id)
    if ctx.actor is not None and not task_service.can_see(ctx.actor, task):
        raise errors.NotFoundError("No task with that id.")
    task_service.ensure_can_work(ctx, task)
    if task.status != "ready":
        raise errors.ConflictError("The task is no longer awaiting input.")
    instance = task.instance
    if expected_version is not None and instance.lock_version != expected_version:
        raise errors.ConflictError("The case changed since you loaded it. Reload and try again.")
    version = instance.version
    compiled = definitions.compiled_of(version)
    schema = compiled.forms.get(task.form_key) if task.form_key else None
    if task.form_key and schema is None:
        raise errors.ConflictError("The task's form is missing from its process version.")
    _check_form(ctx, schema, data, instance.family_id)
    state = _engine_call(
        lambda: ctx.engine.complete_task(
            compiled,
            unpack(instance.state),
            task.task_uuid,
            dict(data),
            params=definitions.parameters_for(ctx, version),
        )
    )
    check_assignees(ctx, state, data, schema)
    rows.complete_task(
        ctx,
        task,
        {
            "completed_at": ctx.now(),
            "completed_by": ctx.actor.user_id if ctx.actor else None,
            "data": dict(data),
        },
    )
    completed = audit.entry(
        ctx,
        "task.completed",
        ("human_task", task.id),
        instance_id=instance.id,
        element=task.element_id,
    )
    apply_state(ctx, instance, compiled, state, open_rows=open_rows, first_events=[completed])
    return task


def fire_timers(ctx: Context, instance: ProcessInstance) -> ProcessState:
    """Fire the instance's due timers and run on (called by the timer worker)."""
    version = instance.version
    compiled = definitions.compiled_of(version)
    state = ctx.engine.fire_timers(
        compiled, unpack(instance.state), params=definitions.parameters_for(ctx, version)
    )
    audit.record(ctx, "timers.fired", ("process_instance", instance.id), instance_id=instance.id)
    apply_state(ctx, instance, compiled, state)
    return state


def terminate(ctx: Context, *, instance_id: int, reason: str) -> ProcessInstance:
    """End an active instance with a recorded reason; its open tasks and timers are withdrawn."""
    instance = get_instance(ctx, instance_id)
    if instance.status not in ("active", "incident"):
        raise errors.InvalidTransitionError("Only an active process can be terminated.")
    now = ctx.now()
    instance.status = "terminated"
    instance.end_reason = reason
    instance.ended_at = now
    instance.updated_at = now
    instance.next_timer_due_at = None
    instance.active_elements = []
    for task in rows.open_tasks(ctx, instance.id):
        task.status = "cancelled"
    projected_ready_rows(ctx.session)[instance.id] = []
    rows.clear_timers(ctx, instance.id)
    audit.record(
        ctx, "process.terminated", ("process_instance", instance.id), instance_id=instance.id
    )
    ctx.session.flush()
    return instance


def get_instance(ctx: Context, instance_id: int) -> ProcessInstance:
    """Return an instance or raise NotFoundError."""
    instance = ctx.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise errors.NotFoundError("No process instance with that id.")
    return instance


def apply_state(
    ctx: Context,
    instance: ProcessInstance,
    compiled: CompiledProcess,
    state: ProcessState,
    *,
    open_rows: Sequence[HumanTask] | None = None,
    first_events: Sequence[dict[str, Any]] = (),
    new: bool = False,
) -> list[HumanTask]:
    """Store a new engine state and project tasks, timers, summary and service calls from it.

    `open_rows` are the instance's ready task rows if the caller already read them; `new`
    marks an instance not yet in the database (`instance` is then a transient object that
    becomes persistent here). Rows are written with prepared statements, each change once,
    and the loaded objects are updated to match; the audit entries (`first_events`, then the
    ones written here) and timer rows go in one batch each. Returns the ready task rows.

    Raises StaleDataError when another transaction changed the instance meanwhile.
    """
    existing = list(rows.open_tasks(ctx, instance.id) if open_rows is None else open_rows)
    now = ctx.now()
    summary = dict(instance.summary or {})
    previous_stage = summary.get("stage")
    summary.update({k: state.data[k] for k in SUMMARY_KEYS if k in state.data})
    stage = _current_stage(previous_stage, state)
    if stage is not None:
        summary["stage"] = stage
    if state.tree_depth > DEPTH_WARNING:
        log.warning("instance %s task tree depth %s", instance.id, state.tree_depth)
    just_completed = state.completed and instance.status == "active"
    status = "completed" if just_completed else instance.status
    values: dict[str, Any] = {
        "state": pack(state.serialized),
        "updated_at": now,
        "summary": summary,
        "current_stage": str(stage) if stage else _stage_of(state),
        "active_elements": list(state.active_elements),
        "completed_elements": list(state.completed_elements),
        "status": status,
        "ended_at": now if just_completed else instance.ended_at,
        "next_timer_due_at": state.next_timer_due_at if status == "active" else None,
    }
    entries: list[dict[str, Any]] = []
    if new:
        prefix = REFERENCE_PREFIX.get(instance.process_key, "PRC")
        rows.insert_instance(ctx, instance, values, reference_prefix=prefix)
        entries.append(
            audit.entry(
                ctx, "process.started", ("process_instance", instance.id), instance_id=instance.id
            )
        )
    else:
        rows.update_instance(ctx, instance, values)
        rows.clear_timers(ctx, instance.id)
    ready, new_rows = _sync_tasks(ctx, instance, state, existing)
    entries.extend(first_events)
    entries.extend(
        audit.entry(
            ctx,
            "task.created",
            ("human_task", row.id),
            instance_id=instance.id,
            element=row.element_id,
        )
        for row in new_rows
    )
    if just_completed:
        entries.append(
            audit.entry(
                ctx, "process.completed", ("process_instance", instance.id), instance_id=instance.id
            )
        )
    audit.write(ctx, entries)
    if instance.status == "active" and not state.completed:
        rows.add_timers(ctx, instance.id, state.waiting_timers)
    handle_service_calls(ctx, instance, state.service_calls)
    ready.sort(key=lambda row: row.id)
    projected_ready_rows(ctx.session)[instance.id] = ready
    return ready


def _current_stage(previous: Any, state: ProcessState) -> Any:
    """The stage the instance has reached: a newly set value wins, the deepest branch first.

    Parallel branches and subprocesses each carry their own copy of `stage`; the one a script
    has just changed is the news, and an older copy never takes the stage backwards.
    """
    candidates = [branch.get("stage") for branch in state.branch_data]
    candidates.append(state.data.get("stage"))
    fresh = [c for c in candidates if c and c != previous]
    if fresh:
        return fresh[0]
    return previous if previous in candidates else state.data.get("stage", previous)


def _stage_of(state: ProcessState) -> str | None:
    return state.ready_tasks[0].title if state.ready_tasks else None


def _sync_tasks(
    ctx: Context, instance: ProcessInstance, state: ProcessState, existing: Sequence[HumanTask]
) -> tuple[list[HumanTask], list[HumanTask]]:
    """Cancel rows of tasks no longer ready and add rows for newly ready ones: (ready, new)."""
    by_uuid = {t.task_uuid: t for t in existing if t.status == "ready"}
    ready_ids = {t.id for t in state.ready_tasks}
    for task_uuid, row in by_uuid.items():
        if task_uuid not in ready_ids:
            rows.cancel_task(ctx, row)
    created = ctx.now()
    ready: list[HumanTask] = []
    new_rows: list[HumanTask] = []
    for task in state.ready_tasks:
        known = by_uuid.get(task.id)
        if known is not None:
            ready.append(known)
            continue
        due = task.due_at
        if due is None and task.due_working_days is not None:
            due = ctx.calendar.add_working_days(created, task.due_working_days)
        values: dict[str, Any] = {
            "instance_id": instance.id,
            "task_uuid": task.id,
            "element_id": task.element_id,
            "title": task.title,
            "lane": task.lane,
            "form_key": task.form_key,
            "agency_code": task.agency,
            "assignee": task.assignee,
            "status": "ready",
            "created_at": created,
            "due_at": due,
            "claimed_by": None,
            "claimed_at": None,
            "completed_by": None,
            "completed_at": None,
            "data": None,
        }
        row = rows.insert_task(ctx, instance, values)
        new_rows.append(row)
        ready.append(row)
    return ready, new_rows


def version_of(instance: ProcessInstance) -> ProcessVersion:
    """Return the process version an instance is pinned to."""
    return instance.version
