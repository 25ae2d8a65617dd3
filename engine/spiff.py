"""SpiffWorkflow implementation of the WorkflowEngine interface. Stateless: state in, state out."""

from __future__ import annotations

import json
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module
import SpiffWorkflow.task as _task_module
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.api import (
    Clock,
    CompiledProcess,
    ProcessState,
    ServiceCall,
    UserTask,
    WaitingTimer,
)
from engine.errors import EngineError, ScriptError, StateError, TaskNotReadyError
from engine.library import BundleCompiler
from engine.pruning import prune_finished_iterations
from engine.scripts import build_functions, operation_scope, safe_script_engine
from engine.workdays import WorkingCalendar

# The silent max_depth=1000 cut-off (see the engine notes): raise it so a deep tree is never
# mistaken for a completed one. Instances also report their depth so the app can warn early.
TaskIterator.__init__.__defaults__ = (None, 10**6, True, None)
BpmnTaskIterator.__init__.__defaults__ = (None, 10**6, True, False, None)
_UNDER_WAY = (TaskState.READY, TaskState.WAITING, TaskState.STARTED)
DEPTH_WARNING = 600

_CLOCK: ContextVar[Clock | None] = ContextVar("engine_clock", default=None)


def _now() -> datetime:
    clock = _CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


class _ClockedDateTime(datetime):
    """Spiff's timer module compares against datetime.now(); route it through the engine clock."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        current = _now()
        return (
            current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        )


class _ClockedTime:
    """Spiff stamps state changes with time.time(); route it through the engine clock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)

    @staticmethod
    def time() -> float:
        return _now().timestamp()


_timer_module.datetime = _ClockedDateTime
_task_module.time = _ClockedTime()


def _serializer(
    script_engine_factory: Callable[[], Any],
) -> tuple[BpmnWorkflowSerializer, BpmnWorkflowConverter]:
    class SafeBpmnWorkflow(BpmnWorkflow):  # type: ignore[misc]
        """A workflow that always runs scripts in the restricted environment."""

        def __init__(self, spec: Any, subprocess_specs: Any = None, **kwargs: Any) -> None:
            kwargs["script_engine"] = script_engine_factory()
            super().__init__(spec, subprocess_specs, **kwargs)

    registry = BpmnWorkflowSerializer.configure(DEFAULT_CONFIG)
    converter = BpmnWorkflowConverter(SafeBpmnWorkflow, registry, typename="BpmnWorkflow")
    serializer = BpmnWorkflowSerializer(registry)
    serializer.workflow_class = SafeBpmnWorkflow
    return serializer, converter


def _latest_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Workflow data overlaid with the last completed top-level task's data.

    `workflow.data` only receives task data when the workflow ends, so a `stage` set by a script
    would otherwise stay invisible to the application while the instance runs.
    """
    data = dict(workflow.data)
    if workflow.last_task is not None:
        data.update(workflow.last_task.data)
    return data


def _branch_data(workflow: BpmnWorkflow) -> tuple[dict[str, Any], ...]:
    """The latest data of each running subprocess, deepest first (what its scripts set so far)."""
    if workflow.is_completed():
        return ()
    running = sorted(workflow.get_active_subprocesses(), key=lambda sp: -sp.depth)
    return tuple(dict(sp.last_task.data) for sp in running if sp.last_task is not None)


def _plain_utc(value: datetime) -> datetime:
    """Return a plain aware UTC datetime (Spiff may hand back its patched subclass)."""
    return datetime.fromtimestamp(value.timestamp(), UTC)


def _wrap(exc: Exception) -> EngineError:
    if isinstance(exc, SpiffWorkflowException):
        task = getattr(exc, "task", None)
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        inner = getattr(exc, "exception", None)
        kind = type(inner).__name__ if inner is not None else type(exc).__name__
        error_type = getattr(exc, "error_type", None)  # WorkflowTaskException keeps the class name
        if isinstance(error_type, str) and error_type != "unknown":
            kind = error_type
        line = getattr(exc, "line_number", None)
        return ScriptError(element, kind, line if isinstance(line, int) and line else None)
    return ScriptError(None, type(exc).__name__)


class SpiffEngine:
    """Run compiled processes with SpiffWorkflow, restricted scripts and an injectable clock."""

    def __init__(
        self,
        *,
        calendar: Callable[[], WorkingCalendar] = WorkingCalendar,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.functions = build_functions(calendar, self.now)
        self.script_engine = safe_script_engine(self.functions)
        self._serializer, self._converter = _serializer(lambda: self.script_engine)
        self._compiler = BundleCompiler(
            self._serializer,
            self._serializer.workflow_class,
            frozenset(self.functions),
        )
        self._spec_cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the engine clock's current instant."""
        return self._clock()

    @contextmanager
    def _scope(self, params: Mapping[str, Any] | None) -> Iterator[list[ServiceCall]]:
        token = _CLOCK.set(self._clock)
        calls: list[ServiceCall] = []
        try:
            with operation_scope(params if params is not None else {}) as outbox:
                yield calls
                calls.extend(
                    ServiceCall(op, element, params) for op, element, params in outbox.calls
                )
        finally:
            _CLOCK.reset(token)

    # -- compile ---------------------------------------------------------------------------

    def compile(
        self,
        key: str | None,
        bpmn_files: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str] | None,
    ) -> CompiledProcess:
        """Parse, validate and lint a bundle; raise InvalidProcessError with every problem."""
        return self._compiler.compile(key, bpmn_files, forms, known_roles)

    # -- runtime ---------------------------------------------------------------------------

    def start(
        self,
        process: CompiledProcess,
        data: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Start an instance and run it to its first wait state."""
        spec, subprocess_specs = self._specs(process)
        with self._scope(params) as calls:
            workflow = self._serializer.workflow_class(spec, subprocess_specs)
            workflow.data.update(dict(data))
            start_task = next(iter(workflow.get_tasks(state=TaskState.READY)), None)
            if start_task is not None:
                start_task.data.update(dict(data))
            self._advance(workflow)
        return self._state(process, workflow, calls, params)

    def complete_task(
        self,
        process: CompiledProcess,
        serialized: str,
        task_id: str,
        data: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Complete a ready user task with (already validated) form data and run on."""
        with self._scope(params) as calls:
            workflow = self._load(process, serialized)
            task = self._ready_task(workflow, task_id)
            task.set_data(**dict(data))
            try:
                task.run()
            except (SpiffWorkflowException, ValueError, TypeError, KeyError) as exc:
                raise _wrap(exc) from exc
            self._advance(workflow)
        return self._state(process, workflow, calls, params)

    def fire_timers(
        self,
        process: CompiledProcess,
        serialized: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Fire every timer due by the engine clock, then run on."""
        with self._scope(params) as calls:
            workflow = self._load(process, serialized)
            self._advance(workflow)
        return self._state(process, workflow, calls, params)

    def snapshot(
        self,
        process: CompiledProcess,
        serialized: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Describe a stored instance without changing it."""
        with self._scope(None) as calls:
            workflow = self._load(process, serialized)
        return self._state(process, workflow, calls, params)

    def task_data(self, process: CompiledProcess, serialized: str, task_id: str) -> dict[str, Any]:
        """Return the data a ready task sees (for prefilling its form)."""
        with self._scope(None):
            workflow = self._load(process, serialized)
            return dict(self._ready_task(workflow, task_id).data)

    # -- internals -------------------------------------------------------------------------

    def _specs(self, process: CompiledProcess) -> tuple[Any, Any]:
        with self._lock:
            cached = self._spec_cache.get(process.content_hash)
            if cached is not None:
                self._spec_cache.move_to_end(process.content_hash)
                return cached
        raw = json.loads(process.spec_json)
        spec = self._serializer.from_dict(raw["spec"])
        subprocess_specs = {
            k: self._serializer.from_dict(v) for k, v in raw["subprocess_specs"].items()
        }
        with self._lock:
            self._spec_cache[process.content_hash] = (spec, subprocess_specs)
            while len(self._spec_cache) > 64:
                self._spec_cache.popitem(last=False)
        return spec, subprocess_specs

    def _load(self, process: CompiledProcess, serialized: str) -> BpmnWorkflow:
        try:
            instance = json.loads(serialized)
            if instance.get(self._serializer.VERSION_KEY) == self._serializer.VERSION:
                # current format: reuse the version's parsed specs (the registry passes
                # already-restored objects through unchanged)
                instance.pop(self._serializer.VERSION_KEY)
                spec, subprocess_specs = self._specs(process)
                instance["spec"] = spec
                instance["subprocess_specs"] = dict(subprocess_specs)
            else:
                instance.update(json.loads(process.spec_json))
                self._serializer.migrate(instance)
            workflow = self._serializer.from_dict(instance)
            if not isinstance(workflow, BpmnWorkflow):
                raise TypeError("not a workflow")
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            SpiffWorkflowException,
        ) as exc:
            raise StateError(
                f"the stored state of a {process.key} instance could not be loaded"
            ) from exc
        workflow.script_engine = self.script_engine
        return workflow

    @staticmethod
    def _ready_task(workflow: BpmnWorkflow, task_id: str) -> Any:
        try:
            from uuid import UUID

            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, WorkflowException, TypeError):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReadyError("the task is not awaiting input")
        return task

    @staticmethod
    def _advance(workflow: BpmnWorkflow) -> None:
        try:
            workflow.refresh_timers()
            workflow.do_engine_steps()
            # do_engine_steps ends with a timer refresh; run anything that refresh made ready.
            while any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                workflow.do_engine_steps()
        except (SpiffWorkflowException, ValueError, TypeError, KeyError, ArithmeticError) as exc:
            raise _wrap(exc) from exc
        prune_finished_iterations(workflow)

    def _state(
        self,
        process: CompiledProcess,
        workflow: BpmnWorkflow,
        calls: list[ServiceCall],
        params: Mapping[str, Any] | None,
    ) -> ProcessState:
        full = self._state_dict(workflow)
        full[self._serializer.VERSION_KEY] = self._serializer.VERSION
        serialized = json.dumps(full, cls=self._serializer._encoder_cls, separators=(",", ":"))
        ready: list[UserTask] = []
        active: set[str] = set()
        done: set[str] = set()
        timers: list[WaitingTimer] = []
        depth = 0
        for task in workflow.get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue
            depth = max(depth, task.depth)
            if task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.state in _UNDER_WAY and not isinstance(task.task_spec, BoundaryEvent):
                # a boundary event waits beside the task it is attached to: the case is at
                # that task (its timers are listed as timers), not at the event
                active.add(bpmn_id)
            if task.state == TaskState.READY and task.task_spec.manual:
                with operation_scope(params if params is not None else {}):
                    ready.append(self._user_task(process, task))
            elif task.state == TaskState.WAITING:
                with operation_scope(params if params is not None else {}):
                    timer = self._timer(process, task)
                if timer is not None:
                    timers.append(timer)
        return ProcessState(
            process_key=process.key,
            content_hash=process.content_hash,
            serialized=serialized,
            completed=workflow.is_completed(),
            ready_tasks=tuple(ready),
            waiting_timers=tuple(sorted(timers, key=lambda t: t.due_at)),
            completed_steps=(),
            active_elements=tuple(sorted(active)),
            completed_elements=tuple(sorted(done - active)),
            data=_latest_data(workflow),
            branch_data=_branch_data(workflow),
            service_calls=tuple(calls),
            tree_depth=depth,
        )

    def _state_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The workflow as BpmnWorkflowConverter.to_dict writes it, without the specs.

        The specs are stored once per version; converting them on every save only to drop
        them again would cost more than the instance itself.
        """
        converter = self._converter
        full: dict[str, Any] = WorkflowConverter.to_dict(converter, workflow)
        full["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
        full["bpmn_events"] = converter.registry.convert(workflow.bpmn_events)
        full["typename"] = "BpmnWorkflow"
        return full

    def _evaluated(self, task: Any, names: tuple[str, ...]) -> dict[str, Any]:
        """The task's Spiff properties of these names, each evaluated in the task's data."""
        properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
        evaluated: dict[str, Any] = {}
        for name in names:
            if name in properties:
                try:
                    evaluated[name] = self.script_engine.environment.evaluate(
                        properties[name], task.data
                    )
                except Exception:
                    evaluated[name] = None
        return evaluated

    def _user_task(self, process: CompiledProcess, task: Any) -> UserTask:
        info = process.tasks.get(task.task_spec.bpmn_id)
        evaluated = self._evaluated(task, ("dueWorkingDays", "dueAt", "agency", "assignee"))
        due_at = None
        if evaluated.get("dueAt"):
            due_at = _plain_utc(TimerEventDefinition.get_datetime(str(evaluated["dueAt"])))
        days = evaluated.get("dueWorkingDays")
        return UserTask(
            id=str(task.id),
            element_id=task.task_spec.bpmn_id,
            title=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            lane=getattr(task.task_spec, "lane", None),
            form_key=info.form_key if info else None,
            due_working_days=int(days)
            if isinstance(days, int | float | str) and str(days).isdigit()
            else None,
            instructions=info.instructions if info else None,
            due_at=due_at,
            agency=str(evaluated["agency"]) if evaluated.get("agency") else None,
            assignee=str(evaluated["assignee"]) if evaluated.get("assignee") else None,
        )

    def _timer(self, process: CompiledProcess, task: Any) -> WaitingTimer | None:
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            return None
        value = definition.details(task).value
        if not value or not isinstance(value, str):
            return None  # e.g. a finite cycle that has used its last repetition
        due = _plain_utc(TimerEventDefinition.get_datetime(value))
        bpmn_id = task.task_spec.bpmn_id
        return WaitingTimer(
            task_id=str(task.id),
            element_id=bpmn_id,
            title=process.element_names.get(bpmn_id, bpmn_id),
            due_at=due,
            agency=self._timer_agency(task),
        )

    def _timer_agency(self, task: Any) -> str | None:
        """The agency of the task a boundary timer is attached to (each invited agency's
        reply has its own reminders), or None."""
        if not isinstance(task.task_spec, BoundaryEvent) or task.parent is None:
            return None
        for attached in task.parent.children:
            if not isinstance(attached.task_spec, BoundaryEvent):
                agency = self._evaluated(attached, ("agency",)).get("agency")
                return str(agency) if agency else None
        return None
