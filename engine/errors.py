"""Errors raised by the engine. Messages carry element ids and class names, never task data."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base class for every error the engine raises."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an uploaded process bundle, written for a process owner."""

    element_id: str | None
    line: int | None
    message: str
    file: str | None = None
    element_name: str | None = None
    """The element's name in the diagram, when it has one (ids are often generated)."""


class InvalidProcessError(EngineError):
    """A process bundle failed parsing, schema validation or the deploy-time lint."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the process bundle")
        self.problems = problems


class TaskNotReadyError(EngineError):
    """The task does not exist in the instance or is not awaiting input."""


class ScriptError(EngineError):
    """A script, condition or timer expression failed while the engine ran it."""

    def __init__(self, element_id: str | None, error_type: str, line: int | None = None) -> None:
        where = f" at {element_id}" if element_id else ""
        super().__init__(f"{error_type}{where}" + (f" (line {line})" if line else ""))
        self.element_id = element_id
        self.error_type = error_type
        self.line = line


class StateError(EngineError):
    """A stored instance state could not be loaded."""
