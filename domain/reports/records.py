"""What has been recorded on a case: the answers it was started with, then each completed task's.

Whoever works a case needs what came before: the screener the concern, the respondent the
disagreement, the convenor each agency's reply and what it shared. Every read of these answers
is audited (`process.records_viewed`), as a read of the case, without personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.agencies import service as agencies_service
from domain.audit import service as audit
from domain.context import Context
from domain.processes import choices
from domain.processes import instances as instance_queries
from domain.processes.models import HumanTask, ProcessInstance
from domain.processes.runtime import SYSTEM_KEYS
from domain.reports.paging import ALL, Span, Window
from domain.users.models import User

SUBJECTS = "subject_person_ids"
START_HIDDEN = ("family_id", *SYSTEM_KEYS)
"""Start answers shown elsewhere on the page (the family, who started it), not as answers."""


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One set of answers recorded on a case, with who recorded it and when."""

    title: str
    """The task's title, or "" for the answers the case was started with."""
    at: datetime
    by: str | None
    by_agency: str | None
    for_agency: str | None
    """The agency the task was for (each invited agency has its own reply), if any."""
    schema: Mapping[str, Any] | None
    answers: Mapping[str, Any]
    task_id: int | None


@dataclass(frozen=True, slots=True)
class CaseRecords:
    """A case's records, oldest first, and the labels their record-based answers need."""

    records: list[CaseRecord]
    choices: dict[str, list[tuple[str, str]]]
    older: int = 0
    """Completed tasks left out, older than those kept (see `case_records`'s `span`)."""
    newer: int = 0
    """Completed tasks left out, newer than those kept."""

    @property
    def tasks(self) -> int:
        """How many tasks of the case have been completed."""
        return self.older + sum(1 for r in self.records if r.task_id is not None) + self.newer


def case_records(
    ctx: Context, instance: ProcessInstance, *, via: str, span: Span = ALL
) -> CaseRecords:
    """Return the case's start answers and completed tasks' answers, oldest first; audit it.

    `span` says which completed tasks: all, the latest few or one page. The start answers come
    first, except on pages after the first; `CaseRecords.older` and `newer` count the tasks
    left out. `via` says where they were read ("case", "task" or "records"). The caller's unit
    of work commits the audit row; nothing is audited when nothing has been recorded.
    """
    version = instance.version
    forms: Mapping[str, Any] = version.forms or {}
    window = _completed(ctx, instance.id, span)
    tasks = window.items
    people = _people(ctx, [instance.started_by, *(t.completed_by for t in tasks)])
    agency_names = agencies_service.names_by_code(ctx)
    records: list[CaseRecord] = []
    start = {k: v for k, v in (instance.start_data or {}).items() if k not in START_HIDDEN}
    if start and (span.page or 1) == 1:
        by, by_agency = people.get(instance.started_by or 0, (None, None))
        schema = _start_schema(forms.get(version.start_form) if version.start_form else None)
        records.append(
            CaseRecord("", instance.started_at, by, by_agency, None, schema, start, None)
        )
    for task in tasks:
        by, by_agency = people.get(task.completed_by or 0, (None, None))
        records.append(
            CaseRecord(
                title=task.title,
                at=task.completed_at or task.created_at,
                by=by,
                by_agency=by_agency,
                for_agency=agency_names.get(task.agency_code or "", task.agency_code),
                schema=forms.get(task.form_key) if task.form_key else None,
                answers=task.data or {},
                task_id=task.id,
            )
        )
    if records:
        audit_reads(ctx, [instance.id], via=via)
    labels = _labels(ctx, records, instance.family_id)
    return CaseRecords(records, labels, window.earlier, window.later)


def _completed(ctx: Context, instance_id: int, span: Span) -> Window[HumanTask]:
    """The case's completed tasks that `span` asks for, oldest first."""
    if span.size is None:
        tasks = list(instance_queries.completed_tasks(ctx, instance_id))
        return Window(tasks, 0, len(tasks))
    done = (HumanTask.instance_id == instance_id, HumanTask.status == "completed")
    total = ctx.session.scalar(select(func.count()).select_from(HumanTask).where(*done)) or 0
    start, limit = span.bounds(total)
    query = (
        select(HumanTask)
        .where(*done)
        .order_by(HumanTask.completed_at, HumanTask.id)
        .offset(start or None)
        .limit(limit)
    )
    return Window(list(ctx.session.scalars(query).all()), start, total)


def audit_reads(ctx: Context, instance_ids: Iterable[int], *, via: str) -> None:
    """Record that what was recorded on these cases was read (one row per case)."""
    for instance_id in sorted(set(instance_ids)):
        audit.record(ctx, "process.records_viewed", ("process_instance", instance_id), via=via)


def _start_schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The start form, its children concerned named as the family's members they must be.

    A start's `subject_person_ids` are checked against the family's members by the runtime
    (whatever the form says), so they are read back as those members' names.
    """
    properties = (schema or {}).get("properties") or {}
    subjects = properties.get(SUBJECTS)
    if schema is None or not isinstance(subjects, Mapping) or "x-options-from" in subjects:
        return schema
    named = {**subjects, "x-options-from": "family_members"}
    return {**schema, "properties": {**properties, SUBJECTS: named}}


def _people(ctx: Context, user_ids: list[int | None]) -> dict[int, tuple[str, str | None]]:
    """Map user ids to (display name, agency name), in one query."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(User.id, User.display_name, User.agency_id).where(User.id.in_(ids))
    ).all()
    agencies = agencies_service.names_by_id(ctx, (agency for _, _, agency in rows))
    return {
        user_id: (name, agencies.get(agency) if agency is not None else None)
        for user_id, name, agency in rows
    }


def _labels(
    ctx: Context, records: list[CaseRecord], family_id: int | None
) -> dict[str, list[tuple[str, str]]]:
    """The (value, label) pairs of every record-based choice the records' forms use, read once."""
    sources: set[str] = set()
    for record in records:
        sources |= choices.option_sources(record.schema)
    labels: dict[str, list[tuple[str, str]]] = {}
    for source in sources & {"agencies", "other_agencies"}:  # named for every reader
        labels[source] = choices.agency_choices(ctx)
    if "family_members" in sources:
        labels["family_members"] = choices.family_member_choices(ctx, family_id)
    if "practitioners" in sources:
        labels["practitioners"] = choices.practitioner_choices(ctx)
    return labels
