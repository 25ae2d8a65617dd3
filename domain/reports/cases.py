"""The open cases behind a dashboard or heatmap count: of one process, at one stage or step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from domain.context import Context
from domain.families.models import Family
from domain.processes import definitions
from domain.processes.models import ProcessInstance
from domain.reports.workload import NO_STAGE, OPEN_STATUSES, process_titles

CASES_LIMIT = 500
"""At most this many cases are listed (the page says when there are more)."""


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One open case as a manager scans a list of them."""

    instance_id: int
    reference: str | None
    stage: str
    family_id: int | None
    family: str | None
    started_at: datetime
    next_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class OpenCases:
    """The open cases of a process (at one stage or step, if asked), oldest first."""

    process_key: str
    process_title: str
    stage: str | None
    step: str | None
    step_name: str | None
    cases: list[CaseLine]
    more: bool


def open_cases(
    ctx: Context, process_key: str, *, stage: str | None = None, step: str | None = None
) -> OpenCases:
    """List a process's open cases, optionally those at a stage (as the dashboard counts them)
    or at a step of its diagram (as the heatmap counts them), oldest first. Raises
    NotFoundError for a process that is not deployed."""
    latest = definitions.latest_version(ctx, process_key)
    query = select(ProcessInstance).where(
        ProcessInstance.process_key == process_key, ProcessInstance.status.in_(OPEN_STATUSES)
    )
    if stage == NO_STAGE:
        query = query.where(ProcessInstance.current_stage.is_(None))
    elif stage is not None:
        query = query.where(ProcessInstance.current_stage == stage)
    found = list(
        ctx.session.scalars(query.order_by(ProcessInstance.started_at, ProcessInstance.id))
    )
    if step is not None:  # the steps a case is at are kept as a list with the case
        found = [i for i in found if step in (i.active_elements or [])]
    more = len(found) > CASES_LIMIT
    found = found[:CASES_LIMIT]
    family_ids = sorted({i.family_id for i in found if i.family_id is not None})
    families: dict[int, str | None] = {}
    if family_ids:
        rows = ctx.session.scalars(select(Family).where(Family.id.in_(family_ids)))
        families = {family.id: family.reference or family.name for family in rows}
    step_name = (latest.element_names or {}).get(step) if step is not None else None
    return OpenCases(
        process_key=process_key,
        process_title=process_titles(ctx).get(process_key, process_key),
        stage=stage,
        step=step,
        step_name=step_name or step,
        cases=[
            CaseLine(
                instance_id=i.id,
                reference=i.reference,
                stage=i.current_stage or NO_STAGE,
                family_id=i.family_id,
                family=families.get(i.family_id) if i.family_id is not None else None,
                started_at=i.started_at,
                next_deadline=i.next_timer_due_at,
            )
            for i in found
        ],
        more=more,
    )
