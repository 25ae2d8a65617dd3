"""Who may see the management reports (dashboard and heatmaps)."""

from __future__ import annotations

from domain import errors
from domain.context import Actor, Context
from domain.lanes import PROCESS_OWNER, TEAM_MANAGER

REPORT_ROLES = (TEAM_MANAGER, PROCESS_OWNER)
TERMINATE_ROLES = (TEAM_MANAGER, PROCESS_OWNER)


def may_view_reports(actor: Actor | None) -> bool:
    """Return whether the actor may see the dashboard and process heatmaps."""
    return actor is None or actor.has_role(*REPORT_ROLES)


def ensure_can_view_reports(ctx: Context) -> None:
    """Raise PermissionDeniedError unless the actor may see the management reports."""
    if not may_view_reports(ctx.actor):
        raise errors.PermissionDeniedError("Only team managers and process owners can see this.")


def may_terminate(actor: Actor | None) -> bool:
    """Return whether the actor may end a process early (with a reason)."""
    return actor is not None and actor.has_role(*TERMINATE_ROLES)
