"""Ethnicity per person (domain brief §9): record, read, data quality and census export code.

Ethnicity belongs to the person and is never defaulted from a relative. REFU is a closed
outcome; NOBT (or no record) is an open data-quality item. Codes never go into audit details.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from domain.audit import service as audit
from domain.context import Context
from domain.families import codes, policies
from domain.families.models import EthnicityRecord, Person
from domain.families.service import get_person, invalid, latest_per_person


def record_ethnicity(
    ctx: Context,
    *,
    person_id: int,
    source: str | None,
    code: str | None = None,
    ons2021: str | None = None,
    extended_code: str | None = None,
    self_description: str | None = None,
) -> EthnicityRecord:
    """Record a person's ethnicity as a new current record; earlier records stay as history.

    The DfE main code is derived from the ONS 2021 category or the extended code when not given.
    REFU (asked and declined) needs the source that declined; NOBT has no source.
    """
    policies.ensure_can_write(ctx)
    person = get_person(ctx, person_id)
    main = _main_code(code, ons2021, extended_code)
    description = (self_description or "").strip() or None
    _check_source(main, source, description)
    record = EthnicityRecord(
        person_id=person.id,
        code=main,
        extended_code=extended_code,
        ons2021=ons2021,
        self_description=description,
        source=source,
        recorded_by=ctx.actor.user_id if ctx.actor else None,
        recorded_at=ctx.now(),
    )
    person.ethnicity_records.append(record)
    ctx.session.flush()
    audit.record(ctx, "person.ethnicity_recorded", ("person", person.id), record_id=record.id)
    return record


def _main_code(code: str | None, ons2021: str | None, extended_code: str | None) -> str:
    if code is not None and code not in codes.ETHNICITY_CODES:
        raise invalid("#/code", "Use one of the 20 DfE ethnicity codes.")
    if code in (codes.REFUSED, codes.NOT_OBTAINED):
        for name, value in (("ons2021", ons2021), ("extended_code", extended_code)):
            if value is not None:
                raise invalid(f"#/{name}", "Leave this empty when refused or not yet obtained.")
        return code
    if extended_code is not None:
        rolled_up = codes.EXTENDED_CODES.get(extended_code)
        if rolled_up is None:
            raise invalid("#/extended_code", "Not a known extended code.")
        if code is not None and code != rolled_up:
            raise invalid("#/extended_code", "Does not roll up to the main code given.")
        code = rolled_up
    if ons2021 is not None:
        category = codes.ONS_2021.get(ons2021)
        if category is None:
            raise invalid("#/ons2021", "Not an ONS 2021 category.")
        allowed = category[2]
        if code is None and len(allowed) == 1:
            (code,) = allowed
        elif code is None:
            raise invalid("#/code", "This census category needs a DfE code: " + _or(allowed))
        elif code not in allowed:
            raise invalid("#/code", "Does not match the ONS 2021 category: use " + _or(allowed))
    if code is None:
        raise invalid("#/code", "Give a DfE code or an ONS 2021 category.")
    return code


def _or(values: frozenset[str]) -> str:
    return " or ".join(sorted(values)) + "."


def _check_source(code: str, source: str | None, description: str | None) -> None:
    if source is not None and source not in codes.ETHNICITY_SOURCES:
        raise invalid("#/source", "Use self, parent_carer or practitioner_observed.")
    if code in (codes.REFUSED, codes.NOT_OBTAINED) and description is not None:
        raise invalid("#/self_description", "Leave this empty when refused or not yet obtained.")
    if code == codes.NOT_OBTAINED:
        if source is not None:
            raise invalid("#/source", "Leave this empty when not yet obtained.")
        return
    if code == codes.REFUSED:
        if source not in (codes.SELF, codes.PARENT_CARER):
            raise invalid("#/source", "Say who declined: self or parent_carer.")
        return
    if source is None:
        raise invalid("#/source", "Say where the answer came from.")
    if source == codes.PRACTITIONER_OBSERVED and description is not None:
        raise invalid("#/self_description", "An observed record has no self-description.")


def current_ethnicity(person: Person) -> EthnicityRecord | None:
    """Return the person's current ethnicity record, or None if none was ever recorded."""
    return person.ethnicity_records[-1] if person.ethnicity_records else None


def ethnicity_history(person: Person) -> list[EthnicityRecord]:
    """Return every ethnicity record of the person, newest first."""
    return list(reversed(person.ethnicity_records))


def ethnicity_status(person: Person) -> str:
    """Return recorded, refused or not_yet_obtained for the person's current record."""
    current = current_ethnicity(person)
    return codes.ethnicity_status(current.code if current else None)


def census_code(record: EthnicityRecord | None) -> str:
    """Return the code an export must use: observed values and missing records go out as NOBT."""
    if record is None or record.observed:
        return codes.NOT_OBTAINED
    return record.code


def census_ethnicity(person: Person) -> str:
    """Return the DfE code a CIN census or Annex A export must use for this person."""
    return census_code(current_ethnicity(person))


def current_records(ctx: Context, person_ids: Sequence[int]) -> dict[int, EthnicityRecord]:
    """Return the current ethnicity record of each of these people that has one."""
    return latest_per_person(ctx, EthnicityRecord, person_ids)


def data_quality_counts(ctx: Context) -> dict[str, int]:
    """Count people by current status: NOBT is actionable, REFU is shown apart, observed flagged."""
    latest = select(func.max(EthnicityRecord.id)).group_by(EthnicityRecord.person_id)
    rows = ctx.session.execute(
        select(EthnicityRecord.code, EthnicityRecord.source).where(EthnicityRecord.id.in_(latest))
    ).all()
    people = ctx.session.scalar(select(func.count(Person.id))) or 0
    counts = {
        codes.STATUS_RECORDED: 0,
        codes.STATUS_REFUSED: 0,
        codes.STATUS_NOT_OBTAINED: people - len(rows),
        "observed": 0,
    }
    for code, source in rows:
        counts[codes.ethnicity_status(code)] += 1
        counts["observed"] += source == codes.PRACTITIONER_OBSERVED
    return counts
