"""The engine's public interface: plain dataclasses and a protocol. No SpiffWorkflow types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware."""


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """Static description of one user task in a process version (from the BPMN)."""

    element_id: str
    title: str
    lane: str | None
    form_key: str | None
    due_working_days: int | None
    instructions: str | None = None
    documentation: str | None = None


@dataclass(frozen=True, slots=True)
class UserTask:
    """A user task awaiting input in a running instance."""

    id: str
    element_id: str
    title: str
    lane: str | None
    form_key: str | None
    due_working_days: int | None
    instructions: str | None = None
    due_at: datetime | None = None
    agency: str | None = None
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class WaitingTimer:
    """A timer event the instance is waiting on."""

    task_id: str
    element_id: str
    title: str
    due_at: datetime
    agency: str | None = None
    """The agency of the task the timer is attached to, when that task names one."""


@dataclass(frozen=True, slots=True)
class CompletedStep:
    """A user task that has been completed (history)."""

    task_id: str
    element_id: str
    title: str
    lane: str | None
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A request from a BPMN service task for the application to carry out (e.g. notify)."""

    operator: str
    element_id: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CompiledProcess:
    """A parsed, linted process version. `spec_json` is stored once per version."""

    key: str
    content_hash: str
    spec_json: str
    tasks: Mapping[str, TaskInfo]
    element_names: Mapping[str, str]
    lanes: tuple[str, ...]
    forms: Mapping[str, Mapping[str, Any]]
    bpmn: Mapping[str, str]
    start_form: str | None = None
    parameters: Mapping[str, Any] | None = None
    """Process-owner parameters the BPMN reads with param(name, default), with defaults."""


@dataclass(frozen=True, slots=True)
class ProcessState:
    """A snapshot of a running instance after an engine step."""

    process_key: str
    content_hash: str
    serialized: str
    completed: bool
    ready_tasks: tuple[UserTask, ...]
    waiting_timers: tuple[WaitingTimer, ...]
    completed_steps: tuple[CompletedStep, ...]
    active_elements: tuple[str, ...]
    completed_elements: tuple[str, ...]
    data: Mapping[str, Any]
    service_calls: tuple[ServiceCall, ...]
    tree_depth: int
    branch_data: tuple[Mapping[str, Any], ...] = ()
    """Latest data of each running subprocess, deepest first (e.g. a stage set inside one)."""

    @property
    def next_timer_due_at(self) -> datetime | None:
        """Return the earliest waiting timer's due instant, if any."""
        return min((t.due_at for t in self.waiting_timers), default=None)


class WorkflowEngine(Protocol):
    """What the application needs from a BPMN engine."""

    def compile(
        self,
        key: str | None,
        bpmn_files: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str] | None,
    ) -> CompiledProcess:
        """Parse, validate and lint a bundle; raise InvalidProcessError with every problem."""
        ...

    def start(
        self,
        process: CompiledProcess,
        data: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Start an instance and run it to its first wait state."""
        ...

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
        ...

    def fire_timers(
        self,
        process: CompiledProcess,
        serialized: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Fire every timer that is due by the engine clock, then run on."""
        ...

    def task_data(self, process: CompiledProcess, serialized: str, task_id: str) -> dict[str, Any]:
        """Return the data a ready task sees (for prefilling its form)."""
        ...

    def snapshot(
        self,
        process: CompiledProcess,
        serialized: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> ProcessState:
        """Describe a stored instance without changing it."""
        ...
