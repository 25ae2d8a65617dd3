"""DfE disability codes per person, and the access log for special category reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.audit import service as audit
from domain.context import Context
from domain.families import codes, policies
from domain.families.models import DisabilityRecord
from domain.families.service import get_person, invalid, latest_per_person


def record_disabilities(
    ctx: Context, *, person_id: int, disability_codes: Sequence[str]
) -> DisabilityRecord:
    """Record a person's current disability codes (NONE alone when they have none)."""
    policies.ensure_can_write(ctx)
    person = get_person(ctx, person_id)
    chosen = list(dict.fromkeys(disability_codes))
    if not chosen:
        raise invalid("#/codes", "Choose at least one code (NONE if no disability).")
    for index, code in enumerate(chosen):
        if code not in codes.DISABILITY_CODES:
            raise invalid(f"#/codes/{index}", "Not a DfE disability code.")
    if codes.NO_DISABILITY in chosen and len(chosen) > 1:
        raise invalid("#/codes", "NONE cannot be combined with other codes.")
    record = DisabilityRecord(
        person_id=person.id,
        codes=chosen,
        recorded_by=ctx.actor.user_id if ctx.actor else None,
        recorded_at=ctx.now(),
    )
    person.disability_records.append(record)
    ctx.session.flush()
    audit.record(ctx, "person.disabilities_recorded", ("person", person.id), record_id=record.id)
    return record


def current_codes(ctx: Context, person_ids: Sequence[int]) -> dict[int, list[str]]:
    """Return the current disability codes of each of these people that has a record."""
    latest = latest_per_person(ctx, DisabilityRecord, person_ids)
    return {person_id: list(row.codes) for person_id, row in latest.items()}


def log_special_category_read(ctx: Context, person_ids: Iterable[int], *, via: str) -> None:
    """Record that the actor was shown these people's ethnicity and disability (one batch)."""
    ctx.session.flush()  # after the entries already made in this unit of work
    audit.write(
        ctx,
        [
            audit.entry(
                ctx,
                "person.special_category_viewed",
                ("person", person_id),
                fields=["ethnicity", "disability"],
                via=via,
            )
            for person_id in person_ids
        ],
    )
