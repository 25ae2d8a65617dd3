"""Carry out service-task requests from the engine inside the same unit of work."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from domain import errors
from domain.context import Context
from domain.processes.models import Notification, ProcessInstance
from engine import ServiceCall

log = logging.getLogger(__name__)
NOTIFY_EVENTS = frozenset(
    {
        "task_assigned",
        "mdt_invitation",
        "reminder",
        "manager_notice",
        "escalation_stage",
        "outcome",
        "feedback",
    }
)


def handle_service_calls(
    ctx: Context, instance: ProcessInstance, calls: Sequence[ServiceCall]
) -> None:
    """Queue notifications and start follow-on processes requested by service tasks."""
    for call in calls:
        if call.operator == "notify":
            queue_notification(ctx, instance, call.params, call.element_id)
        elif call.operator == "start_process":
            _start_follow_on(ctx, instance, call.params)


def queue_notification(
    ctx: Context, instance: ProcessInstance, params: dict[str, Any] | Any, element_id: str
) -> Notification:
    """Write an outbox row: a reference and a link only, never names or case details."""
    event = str(params.get("event", "task_assigned"))
    if event not in NOTIFY_EVENTS:
        log.warning("unknown notification event at %s on instance %s", element_id, instance.id)
    note = Notification(
        event=event,
        instance_id=instance.id,
        reference=instance.reference or str(instance.id),
        agency_code=str(params["agency"]) if params.get("agency") else None,
        role=str(params["role"]) if params.get("role") else None,
        username=str(params["user"]) if params.get("user") else None,
        link=f"/instances/{instance.id}",
        status="pending",
        attempts=0,
        created_at=ctx.now(),
        next_attempt_at=ctx.now(),
    )
    ctx.session.add(note)
    return note


def _start_follow_on(ctx: Context, instance: ProcessInstance, params: dict[str, Any] | Any) -> None:
    from domain.processes import runtime

    key = str(params.get("process_key", ""))
    data = params.get("data") or {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("family_id", instance.family_id)
    data.setdefault("subject_person_ids", list(instance.subject_person_ids or []))
    data.setdefault("parent_reference", instance.reference)
    try:
        child = runtime.start_process(
            ctx, process_key=key, data=data, parent_instance_id=instance.id
        )
    except errors.NotFoundError as exc:
        # Not the caller's 404: the diagram names a process that is not deployed.
        log.error("instance %s: follow-on process %r is not deployed", instance.id, key)
        raise errors.DefinitionProblemError(
            "The process could not move on: it starts another process that is not deployed. "
            "Nothing was saved. Tell a process owner, quoting this message."
        ) from exc
    log.info("instance %s started follow-on instance %s", instance.id, child.id)
