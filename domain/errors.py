"""Errors the caller can act on; each maps to one problem response."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, ClassVar


class DomainError(Exception):
    """An error the caller can act on; maps to one problem response."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFoundError(DomainError):
    """The record does not exist (or the caller may not know it exists)."""

    status = 404
    code = "not-found"


class ConflictError(DomainError):
    """The record changed or is in a state that does not allow the request."""

    status = 409
    code = "conflict"


class DefinitionProblemError(ConflictError):
    """The process definition failed while running (a script or an expression raised, or it
    starts a process that is not deployed): nothing was saved, and sending the same answers
    again fails the same way until a process owner fixes the definition."""

    code = "process-definition-problem"


class InvalidTransitionError(ConflictError):
    """The command does not apply in the record's current state."""

    code = "invalid-transition"


class PermissionDeniedError(DomainError):
    """The actor may not do this."""

    status = 403
    code = "forbidden"


class AuthenticationError(DomainError):
    """Missing or invalid credentials."""

    status = 401
    code = "unauthenticated"


class SignInThrottledError(DomainError):
    """Too many failed sign-ins in a row with one username: the next try must wait."""

    status = 429
    code = "too-many-sign-in-attempts"

    def __init__(self, wait: timedelta) -> None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        minutes = math.ceil(seconds / 60)
        super().__init__(
            "Too many failed sign-ins with this username. "
            f"Try again in {minutes} minute{'' if minutes == 1 else 's'}."
        )
        self.headers = {"Retry-After": str(seconds)}


class ValidationFailedError(DomainError):
    """Input failed validation; `errors` lists JSON pointers and messages."""

    status = 422
    code = "invalid-body"

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors


class ProcessDefinitionError(DomainError):
    """An uploaded process bundle was refused; `problems` lists what to fix."""

    status = 422
    code = "invalid-process"

    def __init__(self, detail: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(detail, problems=problems)
        self.problems = problems
