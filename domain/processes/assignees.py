"""A task assigned to one person by an answer must be one that person can do.

A form may name who does the next task (a lead practitioner, say). The engine then gives the
task both an agency and that person; if the person is not in that agency, or cannot work the
task's lane, nobody at all can do it. So the answer that named them is refused, naming its
question, before anything is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from domain import errors
from domain.agencies import service as agencies
from domain.context import Context
from domain.lanes import LANES
from domain.users.models import User
from engine import ProcessState, UserTask


def check_assignees(
    ctx: Context, state: ProcessState, answers: Mapping[str, Any], schema: Mapping[str, Any] | None
) -> None:
    """Raise ValidationFailedError for each answer that assigns a new task to someone who
    cannot do it (only tasks the answers name are checked; no query when none is)."""
    assigned = {t.assignee: t for t in state.ready_tasks if t.assignee}
    named = {
        value: field
        for field, value in answers.items()
        if isinstance(value, str) and value in assigned
    }
    if not named:
        return
    users = {
        user.username: user
        for user in ctx.session.scalars(select(User).where(User.username.in_(sorted(named))))
    }
    properties = (schema or {}).get("properties") or {}
    problems = []
    for username, field in sorted(named.items(), key=lambda item: item[1]):
        task = assigned[username]
        if _can_do(users.get(username), task):
            continue
        title = str((properties.get(field) or {}).get("title") or "Who will do it")
        where = ""
        if task.agency:
            where = f" in {agencies.names_by_code(ctx).get(task.agency, task.agency)}"
        detail = f'"{title}": choose someone{where} who can do this work, or no one'
        problems.append({"pointer": f"#/{field}", "field": field, "detail": detail})
    if problems:
        raise errors.ValidationFailedError("The form is not valid.", problems)


def _can_do(user: User | None, task: UserTask) -> bool:
    if user is None or not user.active or not user.agency.active:
        return False
    if task.agency and user.agency.code != task.agency:
        return False
    lane = LANES.get(task.lane or "")
    if lane is None:
        return True  # a lane the platform does not know is the diagram's problem, not theirs
    return bool(lane.roles & user.roles) and (lane.kinds is None or user.agency.kind in lane.kinds)
