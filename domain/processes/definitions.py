"""Deploy process bundles as immutable versions; read definitions, versions and parameters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import contains_eager

from domain import errors
from domain.agencies import service as agencies_service
from domain.audit import service as audit
from domain.context import Context
from domain.db import first_writer_wins
from domain.forms import check_form_extensions
from domain.lanes import KNOWN_LANES
from domain.processes.models import ProcessDefinition, ProcessParameter, ProcessVersion
from engine import CompiledProcess, InvalidProcessError, TaskInfo

TITLES = {
    "referral": "Referral and child protection",
    "early_help": "Early help",
    "mdt_meeting": "Multi-agency meeting",
    "escalation": "Escalation of a professional disagreement",
}


def deploy(
    ctx: Context,
    *,
    key: str | None,
    bpmn_files: Mapping[str, bytes],
    forms: Mapping[str, bytes],
) -> tuple[ProcessVersion, bool]:
    """Deploy a bundle as a new version (identical content is a no-op): (version, created)."""
    try:
        compiled = ctx.engine.compile(key, bpmn_files, forms, KNOWN_LANES)
    except InvalidProcessError as exc:
        problems = [
            {
                "element_id": p.element_id,
                "element_name": p.element_name,
                "line": p.line,
                "file": p.file,
                "message": p.message,
            }
            for p in exc.problems
        ]
        raise errors.ProcessDefinitionError("The process bundle has problems.", problems) from exc
    problems = [
        {
            "element_id": None,
            "line": None,
            "file": name,
            "message": f"The form {name} cannot be shown as a page: {problem}",
        }
        for name, schema in compiled.forms.items()
        for problem in check_form_extensions(schema)
    ]
    if problems:
        raise errors.ProcessDefinitionError("The process bundle has problems.", problems)
    clash = errors.ConflictError(
        f"Another version of {compiled.key} was deployed at the same moment. "
        "Check its versions, then deploy again if this one is still wanted."
    )
    definition = ctx.session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == compiled.key)
    )
    if definition is None:
        definition = ProcessDefinition(
            key=compiled.key, title=TITLES.get(compiled.key, compiled.key), created_at=ctx.now()
        )
        ctx.session.add(definition)
        with first_writer_wins(clash):
            ctx.session.flush()
    existing = ctx.session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.definition_id == definition.id,
            ProcessVersion.content_hash == compiled.content_hash,
        )
    )
    if existing is not None:
        return existing, False
    number = (
        ctx.session.scalar(
            select(func.max(ProcessVersion.number)).where(
                ProcessVersion.definition_id == definition.id
            )
        )
        or 0
    ) + 1
    version = ProcessVersion(
        definition_id=definition.id,
        number=number,
        content_hash=compiled.content_hash,
        spec_json=compiled.spec_json,
        bpmn=dict(compiled.bpmn),
        forms={k: dict(v) for k, v in compiled.forms.items()},
        tasks={k: _task_to_json(v) for k, v in compiled.tasks.items()},
        element_names=dict(compiled.element_names),
        start_form=compiled.start_form,
        parameters=dict(compiled.parameters or {}),
        created_at=ctx.now(),
        created_by=ctx.actor.user_id if ctx.actor else None,
    )
    ctx.session.add(version)
    with first_writer_wins(clash):
        ctx.session.flush()
    audit.record(
        ctx, "process.deployed", ("process_version", version.id), key=compiled.key, number=number
    )
    return version, True


def _task_to_json(task: TaskInfo) -> dict[str, Any]:
    return {
        "element_id": task.element_id,
        "title": task.title,
        "lane": task.lane,
        "form_key": task.form_key,
        "due_working_days": task.due_working_days,
        "instructions": task.instructions,
        "documentation": task.documentation,
    }


_COMPILED: dict[tuple[int, str], CompiledProcess] = {}


def compiled_of(version: ProcessVersion) -> CompiledProcess:
    """Rebuild the engine's view of a stored version (cached per version row)."""
    cache_key = (version.id, version.content_hash)
    compiled = _COMPILED.get(cache_key)
    if compiled is None:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        compiled = _COMPILED[cache_key] = _compile_row(version)
    return compiled


def _compile_row(version: ProcessVersion) -> CompiledProcess:
    return CompiledProcess(
        key=version.definition.key,
        content_hash=version.content_hash,
        spec_json=version.spec_json,
        tasks={k: TaskInfo(**v) for k, v in version.tasks.items()},
        element_names=dict(version.element_names),
        lanes=tuple(sorted({v["lane"] for v in version.tasks.values() if v["lane"]})),
        forms=dict(version.forms),
        bpmn=dict(version.bpmn),
        start_form=version.start_form,
        parameters=dict(version.parameters or {}),
    )


def list_definitions(ctx: Context) -> Sequence[ProcessDefinition]:
    """List every process definition, by key."""
    return ctx.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)).all()


def get_definition(ctx: Context, key: str) -> ProcessDefinition:
    """Return a definition or raise NotFoundError."""
    definition = ctx.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key))
    if definition is None:
        raise errors.NotFoundError("No process with that key.")
    return definition


def get_version(ctx: Context, key: str, number: int) -> ProcessVersion:
    """Return one version of a process or raise NotFoundError."""
    version = ctx.session.scalar(
        select(ProcessVersion)
        .join(ProcessDefinition)
        .where(ProcessDefinition.key == key, ProcessVersion.number == number)
    )
    if version is None:
        raise errors.NotFoundError("No such version of that process.")
    return version


_LATEST_VERSION = (
    select(ProcessVersion)
    .join(ProcessVersion.definition)
    .where(ProcessDefinition.key == bindparam("key"))
    .options(contains_eager(ProcessVersion.definition))
    .order_by(ProcessVersion.number.desc())
    .limit(1)
)


def latest_version(ctx: Context, key: str) -> ProcessVersion:
    """Return the newest version of a process or raise NotFoundError."""
    version = ctx.session.scalar(_LATEST_VERSION, {"key": key})
    if version is None:
        get_definition(ctx, key)  # no such process: 404 naming the process
        raise errors.NotFoundError("That process has no deployed version.")
    return version


class ProcessParameters(Mapping[str, Any]):
    """The effective parameters of a version: the diagram's defaults overlaid with owners' values.

    Owners' values are read on first use, so an engine step that reads no `param(...)` costs
    no query.
    """

    def __init__(self, ctx: Context, version: ProcessVersion) -> None:
        compiled = compiled_of(version)
        self._ctx = ctx
        self._key = compiled.key
        self._defaults = dict(compiled.parameters or {})
        self._values: dict[str, Any] | None = None

    def _loaded(self) -> dict[str, Any]:
        if self._values is None:
            values = dict(self._defaults)
            rows = self._ctx.session.execute(
                select(ProcessParameter.name, ProcessParameter.value).where(
                    ProcessParameter.process_key == self._key
                )
            )
            values.update({name: value for name, value in rows})
            self._values = values
        return self._values

    def __getitem__(self, name: str) -> Any:
        return self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def parameters_for(ctx: Context, version: ProcessVersion) -> ProcessParameters:
    """Return the effective parameters: the diagram's defaults overlaid with owners' values."""
    return ProcessParameters(ctx, version)


AGENCY_PARAMETER_SUFFIX = "_agency"


def names_an_agency(name: str) -> bool:
    """Whether a parameter's value is an agency's code (its name ends in `_agency`): tasks
    and notices for it go to that agency, so it must be one that exists."""
    return name.endswith(AGENCY_PARAMETER_SUFFIX)


NUMBER_MIN = 0
NUMBER_MAX = 1000
"""Every number a process reads as a parameter is a count of days, weeks or hours: from none
to a thousand (a negative or an enormous one would stop every case that reaches it)."""


def check_parameter(ctx: Context, name: str, default: Any, value: Any) -> Any:
    """Return `value` as the parameter will hold it, or raise ValidationFailedError saying
    what it must be: the default's type (a whole number when the default is one, however it
    was written), a number from NUMBER_MIN to NUMBER_MAX, or an agency's code."""

    def refuse(detail: str) -> errors.ValidationFailedError:
        return errors.ValidationFailedError(detail, [{"pointer": "#/value", "detail": detail}])

    if names_an_agency(name):
        if not isinstance(value, str) or agencies_service.find_agency(ctx, value) is None:
            raise refuse("Choose the code of an agency.")
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, bool) or default is None or isinstance(default, str):
        if default is not None and type(value) is not type(default):
            raise refuse("Enter yes or no." if isinstance(default, bool) else "Enter text.")
        return value
    whole = isinstance(default, int)
    wanted = f"{'a whole number' if whole else 'a number'} from {NUMBER_MIN:,} to {NUMBER_MAX:,}"
    # (NaN is neither at least NUMBER_MIN nor at most NUMBER_MAX; nor is anything infinite)
    if not number or not NUMBER_MIN <= value <= NUMBER_MAX or (whole and value != int(value)):
        raise refuse(f"Enter {wanted}.")
    return int(value) if whole else value


def set_parameter(ctx: Context, *, key: str, name: str, value: Any) -> Any:
    """Set a process parameter (e.g. an escalation stage limit) without changing the diagram;
    return the value now in force. Saving the value already in force changes nothing."""
    version = latest_version(ctx, key)
    declared = version.parameters or {}
    if name not in declared:
        raise errors.NotFoundError("The process does not read a parameter with that name.")
    default = declared[name]
    value = check_parameter(ctx, name, default, value)
    row = ctx.session.scalar(
        select(ProcessParameter).where(
            ProcessParameter.process_key == key, ProcessParameter.name == name
        )
    )
    in_force = default if row is None else row.value
    if type(in_force) is type(value) and in_force == value:
        return value
    if row is None:
        row = ProcessParameter(process_key=key, name=name, value=value, updated_at=ctx.now())
        ctx.session.add(row)
    row.value = value
    row.updated_at = ctx.now()
    row.updated_by = ctx.actor.user_id if ctx.actor else None
    with first_writer_wins(
        errors.ConflictError(
            f"{name} was set by someone else at the same moment. Reload to see it."
        )
    ):
        ctx.session.flush()
    audit.record(ctx, "process.parameter_set", ("process_parameter", row.id), key=key, name=name)
    return value
