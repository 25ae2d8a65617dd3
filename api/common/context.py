"""Build the domain Context for a request or a timer firing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from flask import current_app, g

from api.common.extensions import db
from domain.calendar.service import calendar_slot
from domain.context import Actor, Context
from engine import WorkflowEngine


def services() -> dict[str, Any]:
    """Return the objects the composition root registered on the app."""
    return cast(dict[str, Any], current_app.extensions["thinkfamily"])


def base_context(actor: Actor | None) -> Context:
    """Build a context on the request's session for the given actor."""
    registry = services()
    clock = cast(Callable[[], datetime], registry["clock"])
    session = db.session()
    return Context(
        session=session,
        actor=actor,
        engine=cast(WorkflowEngine, registry["engine"]),
        clock=clock,
        calendar_source=calendar_slot(session),
        settings=registry["settings"],
    )


def command_context() -> Context:
    """Build the context for the signed-in actor of this request."""
    from api.common.auth import require_actor

    if "command_ctx" not in g:
        g.command_ctx = base_context(require_actor())
    return cast(Context, g.command_ctx)
