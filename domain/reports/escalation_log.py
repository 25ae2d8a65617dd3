"""The partnership's escalation log: every finished escalation with its theme, for learning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from domain.context import Context
from domain.processes.models import ProcessInstance

ESCALATION_KEY = "escalation"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One escalation in the log (codes and references only)."""

    instance_id: int
    reference: str | None
    category: str | None
    theme: str | None
    stage_reached: int | None
    resolved_at_stage: int | None
    status: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class EscalationLog:
    """The log and the count of finished escalations by learning theme."""

    entries: tuple[LogEntry, ...]
    themes: tuple[tuple[str, int], ...]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def escalation_log(ctx: Context, *, limit: int = 50) -> EscalationLog:
    """List the latest escalations (newest first) and count finished ones by theme."""
    rows: Sequence[ProcessInstance] = ctx.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.process_key == ESCALATION_KEY)
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
        .limit(limit)
    ).all()
    entries = tuple(
        LogEntry(
            instance_id=row.id,
            reference=row.reference,
            category=_text((row.summary or {}).get("category")),
            theme=_text((row.summary or {}).get("theme")),
            stage_reached=_int((row.summary or {}).get("stage_reached")),
            resolved_at_stage=_int((row.summary or {}).get("resolved_at_stage")),
            status=row.status,
            started_at=row.started_at,
            ended_at=row.ended_at,
        )
        for row in rows
    )
    finished = ctx.session.scalars(
        select(ProcessInstance.summary).where(
            ProcessInstance.process_key == ESCALATION_KEY, ProcessInstance.status == "completed"
        )
    ).all()
    themes = Counter(_text((summary or {}).get("theme")) or "not recorded" for summary in finished)
    return EscalationLog(entries=entries, themes=tuple(sorted(themes.items(), key=lambda t: -t[1])))
