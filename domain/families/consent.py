"""Consent records and information-sharing decisions for a family. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from domain import errors
from domain.agencies.models import Agency
from domain.audit import service as audit
from domain.context import Context
from domain.families import codes, policies
from domain.families.ages import is_child, local_today
from domain.families.models import ConsentRecord, InformationSharingDecision
from domain.families.service import get_family, invalid, members_of
from domain.processes.models import ProcessInstance


def record_consent(
    ctx: Context,
    *,
    family_id: int,
    scope: str,
    status: str,
    given_by_person_id: int | None = None,
    competent_child: bool = False,
    obtained_on: date | None = None,
    method: str | None = None,
    not_sought_reason: str | None = None,
    instance_id: int | None = None,
) -> ConsentRecord:
    """Record consent given or refused by a member, or not sought with a reason."""
    policies.ensure_can_write(ctx)
    family = get_family(ctx, family_id)
    if scope not in codes.CONSENT_SCOPES:
        raise invalid("#/scope", "Use share, refer or taf.")
    if status not in codes.CONSENT_STATUSES:
        raise invalid("#/status", "Use given, refused or not_sought.")
    _check_instance(ctx, instance_id)
    reason = (not_sought_reason or "").strip() or None
    if status == codes.CONSENT_NOT_SOUGHT:
        _check_not_sought(given_by_person_id, competent_child, obtained_on, method, reason)
    else:
        _check_answer(ctx, family.id, given_by_person_id, competent_child, obtained_on, method)
        if reason is not None:
            raise invalid("#/not_sought_reason", "Only when consent was not sought.")
    consent = ConsentRecord(
        family_id=family.id,
        instance_id=instance_id,
        scope=scope,
        status=status,
        given_by_person_id=given_by_person_id,
        competent_child=competent_child,
        obtained_on=obtained_on,
        method=method,
        not_sought_reason=reason,
        recorded_by=ctx.actor.user_id if ctx.actor else None,
        recorded_at=ctx.now(),
    )
    ctx.session.add(consent)
    ctx.session.flush()
    audit.record(
        ctx,
        "family.consent_recorded",
        ("family", family.id),
        instance_id=instance_id,
        consent_id=consent.id,
        scope=scope,
        status=status,
    )
    return consent


def _check_not_sought(
    person_id: int | None,
    competent_child: bool,
    obtained_on: date | None,
    method: str | None,
    reason: str | None,
) -> None:
    if reason is None:
        raise invalid("#/not_sought_reason", "Say why consent was not sought.")
    for name, value in (
        ("given_by_person_id", person_id),
        ("obtained_on", obtained_on),
        ("method", method),
    ):
        if value is not None:
            raise invalid(f"#/{name}", "Leave this empty when consent was not sought.")
    if competent_child:
        raise invalid("#/competent_child", "Leave this empty when consent was not sought.")


def _check_answer(
    ctx: Context,
    family_id: int,
    person_id: int | None,
    competent_child: bool,
    obtained_on: date | None,
    method: str | None,
) -> None:
    today = local_today(ctx)
    members = {m.id: m for m in members_of(ctx, family_id)}
    if person_id is None:
        raise invalid("#/given_by_person_id", "Say who answered.")
    person = members.get(person_id)
    if person is None:
        raise invalid("#/given_by_person_id", "Not a member of this family.")
    child = is_child(person, today)
    if person.is_unborn or (competent_child and not child):
        raise invalid("#/competent_child", "Only a child can be a competent child.")
    if child and not competent_child:
        raise invalid("#/competent_child", "A child answers only when judged competent.")
    if obtained_on is None or obtained_on > today:
        raise invalid("#/obtained_on", "Enter the date, today or earlier.")
    if method not in codes.CONSENT_METHODS:
        raise invalid("#/method", "Use verbal, written or electronic.")


def withdraw_consent(
    ctx: Context, *, consent_id: int, withdrawn_on: date | None = None
) -> ConsentRecord:
    """Record that consent given earlier has been withdrawn (today unless a date is given)."""
    policies.ensure_can_write(ctx)
    consent = get_consent(ctx, consent_id)
    if consent.status != codes.CONSENT_GIVEN or consent.withdrawn_on is not None:
        raise errors.InvalidTransitionError(
            "Only consent that is currently given can be withdrawn."
        )
    day = withdrawn_on or local_today(ctx)
    if day > local_today(ctx) or (consent.obtained_on is not None and day < consent.obtained_on):
        raise invalid("#/withdrawn_on", "Enter a date between the consent and today.")
    # one conditional UPDATE, so that of two withdrawals at the same moment only one is recorded
    withdrawn = ctx.session.execute(
        update(ConsentRecord)
        .where(
            ConsentRecord.id == consent.id,
            ConsentRecord.status == codes.CONSENT_GIVEN,
            ConsentRecord.withdrawn_on.is_(None),
        )
        .values(withdrawn_on=day, withdrawn_recorded_by=ctx.actor.user_id if ctx.actor else None)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], withdrawn).rowcount != 1:
        raise errors.InvalidTransitionError(
            "This consent was withdrawn by someone else at the same moment."
        )
    ctx.session.refresh(consent)
    audit.record(
        ctx,
        "family.consent_withdrawn",
        ("family", consent.family_id),
        instance_id=consent.instance_id,
        consent_id=consent.id,
    )
    ctx.session.flush()
    return consent


def get_consent(ctx: Context, consent_id: int) -> ConsentRecord:
    """Return a consent record or raise NotFoundError."""
    policies.ensure_can_read(ctx)
    consent = ctx.session.get(ConsentRecord, consent_id)
    if consent is None:
        raise errors.NotFoundError("No consent record with that id.")
    return consent


def list_consents(ctx: Context, family_id: int) -> Sequence[ConsentRecord]:
    """List a family's consent records, newest first."""
    query = select(ConsentRecord).where(ConsentRecord.family_id == family_id)
    return ctx.session.scalars(query.order_by(ConsentRecord.id.desc())).all()


def record_information_sharing(
    ctx: Context,
    *,
    family_id: int,
    shared: bool,
    purpose: str,
    consent_status: str,
    information: str | None = None,
    recipients: Sequence[str] = (),
    lawful_basis: str | None = None,
    consent_id: int | None = None,
    instance_id: int | None = None,
) -> InformationSharingDecision:
    """Record a decision to share or not: what, with whom, why, lawful basis and consent."""
    policies.ensure_can_write(ctx)
    family = get_family(ctx, family_id)
    _check_instance(ctx, instance_id)
    if not purpose.strip():
        raise invalid("#/purpose", "Record the reasons, whether or not you share.")
    if consent_status not in codes.SHARING_CONSENT_STATUSES:
        raise invalid("#/consent_status", "Not a known consent status.")
    if shared:
        for name, value in (("information", information), ("lawful_basis", lawful_basis)):
            if not (value or "").strip():
                raise invalid(f"#/{name}", "Required when information is shared.")
        if not recipients:
            raise invalid("#/recipients", "Say which agencies it was shared with.")
    known = set(ctx.session.scalars(select(Agency.code).where(Agency.code.in_(recipients))))
    for index, code in enumerate(recipients):
        if code not in known:
            raise invalid(f"#/recipients/{index}", "Not a known agency code.")
    if consent_id is not None:
        consent = ctx.session.get(ConsentRecord, consent_id)
        if consent is None or consent.family_id != family.id:
            raise invalid("#/consent_id", "Not a consent record of this family.")
    decision = InformationSharingDecision(
        family_id=family.id,
        instance_id=instance_id,
        shared=shared,
        information=(information or "").strip() or None,
        recipients=list(dict.fromkeys(recipients)),
        purpose=purpose.strip(),
        lawful_basis=(lawful_basis or "").strip() or None,
        consent_status=consent_status,
        consent_id=consent_id,
        decided_by=ctx.actor.user_id if ctx.actor else None,
        decided_at=ctx.now(),
    )
    ctx.session.add(decision)
    ctx.session.flush()
    audit.record(
        ctx,
        "family.information_sharing_recorded",
        ("family", family.id),
        instance_id=instance_id,
        decision_id=decision.id,
        shared=shared,
    )
    return decision


def list_sharing_decisions(ctx: Context, family_id: int) -> Sequence[InformationSharingDecision]:
    """List a family's information-sharing decisions, newest first."""
    query = select(InformationSharingDecision).where(
        InformationSharingDecision.family_id == family_id
    )
    return ctx.session.scalars(query.order_by(InformationSharingDecision.id.desc())).all()


def _check_instance(ctx: Context, instance_id: int | None) -> None:
    if instance_id is not None and ctx.session.get(ProcessInstance, instance_id) is None:
        raise invalid("#/instance_id", "No process instance with that id.")
