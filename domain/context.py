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
    """Everything a service needs; built per request or per timer firing."""

    session: Session
    actor: Actor | None
    engine: WorkflowEngine
    clock: Callable[[], datetime]
    calendar: WorkingCalendar
    settings: dict[str, Any] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def now(self) -> datetime:
        """Return the current instant from the injected clock."""
        return self.clock()
