"""The command context passed to every service: session, actor, engine, clock, calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import WorkflowEngine
from engine.workdays import WorkingCalendar


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the system (timer worker) when None."""

    user_id: int
    username: str
    agency_id: int
    agency_code: str
    agency_kind: str
    roles: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        """Return whether the actor has any of the roles."""
        return bool(self.roles & set(roles))


@dataclass
class Context:
    """Everything a service needs; built per request or per timer firing.

    The working calendar is read from the database the first time a service asks for it,
    so requests that compute no due date never query the calendar table.
    """

    session: Session
    actor: Actor | None
    engine: WorkflowEngine
    clock: Callable[[], datetime]
    calendar_source: Callable[[], WorkingCalendar]
    settings: dict[str, Any] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def now(self) -> datetime:
        """Return the current instant from the injected clock."""
        return self.clock()

    @property
    def calendar(self) -> WorkingCalendar:
        """The working calendar as this unit of work sees it (loaded on first use)."""
        return self.calendar_source()

    @calendar.setter
    def calendar(self, value: WorkingCalendar) -> None:
        self.calendar_source = lambda: value
