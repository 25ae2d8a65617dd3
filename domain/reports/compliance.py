"""Timescale compliance from task rows, and ethnicity data quality, for the dashboard.

Each timescale is measured on completed task rows of one BPMN element, so no workflow state
is loaded. The element ids are the shipped referral process's; change the constants below if
a process owner renames them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from domain.context import Context
from domain.families import codes
from domain.families.ethnicity import data_quality_counts
from domain.processes.models import HumanTask, ProcessInstance

REFERRAL_KEY = "referral"
SCREENING_DECISION_ELEMENT = "referral_decision"
"""The user task whose completion is the front door's screening decision."""
ASSESSMENT_ELEMENT = "referral_assessment_sign_off"
"""The user task whose completion ends the assessment (the manager's authorisation)."""
STRATEGY_DISCUSSION_ELEMENT = "referral_strategy_discussion"
ICPC_ELEMENT = "referral_icpc"


@dataclass(frozen=True, slots=True)
class Timescale:
    """A statutory timescale: `element` done within `working_days`.

    Measured from the completion of `start_element` in the same case when given; otherwise
    against the task's own due date (which the process sets to the timescale), or from the
    case's start when the task has no due date.
    """

    key: str
    label: str
    process_key: str
    element: str
    working_days: int
    start_element: str | None = None


TIMESCALES: tuple[Timescale, ...] = (
    Timescale(
        "screening",
        "Referral screening decisions made within 1 working day",
        REFERRAL_KEY,
        SCREENING_DECISION_ELEMENT,
        1,
    ),
    Timescale(
        "assessment",
        "Assessments completed within 45 working days",
        REFERRAL_KEY,
        ASSESSMENT_ELEMENT,
        45,
    ),
    Timescale(
        "icpc",
        "Initial child protection conferences within 15 working days of the strategy discussion",
        REFERRAL_KEY,
        ICPC_ELEMENT,
        15,
        STRATEGY_DISCUSSION_ELEMENT,
    ),
)


@dataclass(frozen=True, slots=True)
class Compliance:
    """How many completed items met a timescale; `percent` is None when there is no data."""

    timescale: Timescale
    within: int
    total: int
    open_overdue: int
    """Not done yet and already past the timescale."""

    @property
    def percent(self) -> int | None:
        """The share done within the timescale, rounded to a whole percent."""
        if self.total == 0:
            return None
        return round(100 * self.within / self.total)


@dataclass(frozen=True, slots=True)
class EthnicityQuality:
    """People by current ethnicity status: NOBT is actionable, REFU is a closed answer."""

    not_obtained: int
    refused: int
    recorded: int
    observed: int
    """Recorded by a practitioner as observed (sent to the census as NOBT)."""


def timescale_compliance(
    ctx: Context, timescales: Sequence[Timescale] = TIMESCALES
) -> list[Compliance]:
    """Measure each timescale over every completed task row of its element."""
    return [_measure(ctx, timescale) for timescale in timescales]


def _rows(ctx: Context, timescale: Timescale, element: str) -> Sequence[HumanTask]:
    return ctx.session.scalars(
        select(HumanTask)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.process_key == timescale.process_key,
            HumanTask.element_id == element,
            HumanTask.status.in_(("completed", "ready")),
        )
        .order_by(HumanTask.id)
    ).all()


def _measure(ctx: Context, timescale: Timescale) -> Compliance:
    now = ctx.now()
    starts: dict[int, list[datetime]] = {}
    if timescale.start_element:
        for row in _rows(ctx, timescale, timescale.start_element):
            if row.status == "completed" and row.completed_at is not None:
                starts.setdefault(row.instance_id, []).append(row.completed_at)
    within = total = open_overdue = 0
    for row in _rows(ctx, timescale, timescale.element):
        deadline = _deadline(ctx, timescale, row, starts)
        if row.status == "ready":
            open_overdue += deadline is not None and now > deadline
            continue
        if row.completed_at is None or deadline is None:
            continue  # no data to measure this one against
        total += 1
        within += row.completed_at <= deadline
    return Compliance(timescale, within, total, open_overdue)


def _deadline(
    ctx: Context, timescale: Timescale, row: HumanTask, starts: dict[int, list[datetime]]
) -> datetime | None:
    if timescale.start_element:
        before = [s for s in starts.get(row.instance_id, []) if s <= (row.completed_at or s)]
        if not before:
            return None
        return ctx.calendar.add_working_days(max(before), timescale.working_days)
    if row.due_at is not None:
        return row.due_at
    return ctx.calendar.add_working_days(row.instance.started_at, timescale.working_days)


def ethnicity_quality(ctx: Context) -> EthnicityQuality:
    """Count people by current ethnicity status (people never asked count as NOBT)."""
    counts = data_quality_counts(ctx)
    return EthnicityQuality(
        not_obtained=counts[codes.STATUS_NOT_OBTAINED],
        refused=counts[codes.STATUS_REFUSED],
        recorded=counts[codes.STATUS_RECORDED],
        observed=counts["observed"],
    )
