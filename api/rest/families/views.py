"""Families, people, ethnicity, disability, consent and information sharing."""

# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; the view functions themselves are fully typed)

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.wrappers import Response
from marshmallow import RAISE

from api.common.auth import requires_role
from api.common.context import command_context
from api.rest.common import Blueprint
from api.rest.families import schemas
from domain.db import unit_of_work
from domain.families import consent as consent_service
from domain.families import disabilities, ethnicity, matching, membership, view
from domain.families import service as families
from domain.families.models import (
    ConsentRecord,
    DisabilityRecord,
    EthnicityRecord,
    Family,
    FamilyMembership,
    InformationSharingDecision,
    Person,
    PersonRelationship,
)
from domain.families.policies import READERS, WRITERS

bp = Blueprint("families", __name__, url_prefix="", description="Families and people")


@bp.get("/families")
@requires_role(*READERS)
@bp.arguments(schemas.FamilyQuerySchema, location="query", unknown=RAISE)
@bp.response(200, schemas.FamilySchema(many=True))
def list_families(query: dict[str, Any]) -> list[Family]:
    """List families, newest first; `search` matches a reference, household or member's name."""
    return list(families.list_families(command_context(), **query))


@bp.post("/families")
@requires_role(*WRITERS)
@bp.arguments(schemas.FamilyCreateSchema)
@bp.response(201, schemas.FamilySchema)
def create_family(payload: dict[str, Any]) -> Family:
    """Open a household record (the reference is generated)."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        family = families.create_family(ctx, name=payload["name"])
    return family


@bp.get("/families/<int:family_id>")
@requires_role(*READERS)
@bp.response(200, schemas.FamilyViewSchema)
def get_family(family_id: int) -> Response:
    """The Think Family view: members (under-5s first), every process, timeline, consents.

    Ethnicity and disability appear only for practitioners and team managers, and each such
    read is written to the audit trail.
    """
    ctx = command_context()
    with unit_of_work(ctx.session):
        family_view = view.get_family_view(ctx, family_id)
        body = schemas.family_view_schema(ctx.actor).dump(family_view)
    return jsonify(body)


@bp.get("/families/<int:family_id>/timeline")
@requires_role(*READERS)
@bp.arguments(schemas.TimelineQuerySchema, location="query", unknown=RAISE)
@bp.response(200, schemas.TimelinePageSchema)
def get_timeline(query: dict[str, Any], family_id: int) -> Response:
    """A page of the household's timeline, newest first: what happened to the family, its
    members and their processes, and who did it (ids). Reads are not entries.

    Page on with `before` set to the last page's `older_than` until it is null; every entry
    comes once. The read is audited as a view of the family.
    """
    ctx = command_context()
    with unit_of_work(ctx.session):
        page = view.get_timeline(ctx, family_id, show=query["show"], before=query["before"])
        body = schemas.TimelinePageSchema().dump(page)
    return jsonify(body)


@bp.post("/families/<int:family_id>/members")
@requires_role(*WRITERS)
@bp.arguments(schemas.MemberCreateSchema)
@bp.response(201, schemas.PersonSchema)
def add_member(payload: dict[str, Any], family_id: int) -> Person:
    """Add a new or existing person to the household, with their relationships to members."""
    details = payload["person"]
    ctx = command_context()
    with unit_of_work(ctx.session):
        person = families.add_member(
            ctx,
            family_id=family_id,
            person=families.PersonDetails(**details) if details is not None else None,
            person_id=payload["person_id"],
            relationships=[families.RelationshipInput(**r) for r in payload["relationships"]],
        )
    return person


@bp.post("/families/<int:family_id>/members/<int:person_id>/left")
@requires_role(*WRITERS)
@bp.arguments(schemas.LeftCreateSchema)
@bp.response(200, schemas.MembershipSchema)
def record_left(payload: dict[str, Any], family_id: int, person_id: int) -> FamilyMembership:
    """Record that a member left the household (today or earlier, not before their birth).

    They stay a member of the record, listed after those living there, and in its timeline.
    409 if their leaving is already recorded.
    """
    ctx = command_context()
    with unit_of_work(ctx.session):
        left = membership.record_left(
            ctx,
            family_id=family_id,
            person_id=person_id,
            left_on=payload["left_on"],
            reason=payload["reason"],
        )
    return left


@bp.delete("/families/<int:family_id>/members/<int:person_id>/left")
@requires_role(*WRITERS)
@bp.response(200, schemas.MembershipSchema)
def record_returned(family_id: int, person_id: int) -> FamilyMembership:
    """Record that a member who had left lives in the household again (409 if not left)."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        back = membership.record_returned(ctx, family_id=family_id, person_id=person_id)
    return back


@bp.get("/families/<int:family_id>/possible-matches")
@requires_role(*WRITERS)
@bp.arguments(schemas.MatchQuerySchema, location="query", unknown=RAISE)
@bp.response(200, schemas.PossibleMatchSchema(many=True))
def possible_matches(query: dict[str, Any], family_id: int) -> Response:
    """People already recorded who may be the person about to be added to this household.

    The same name (accents, capitals, punctuation and word breaks aside) and no other date of
    birth; at most 10, oldest records first. Ask before adding a new person: a person is
    recorded once, however many households they are in. Each answer is audited (ids only).
    """
    ctx = command_context()
    with unit_of_work(ctx.session):
        families.get_family(ctx, family_id)
        found = matching.possible_matches(ctx, family_id=family_id, **query)
        body = schemas.PossibleMatchSchema(many=True).dump(found)
    return jsonify(body)


@bp.get("/people/<int:person_id>")
@requires_role(*READERS)
@bp.response(200, schemas.PersonDetailSchema)
def get_person(person_id: int) -> Response:
    """A person with their households, relationships and (for practitioners) ethnicity."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        person_view = view.get_person_view(ctx, person_id)
        body = schemas.person_detail_schema(ctx.actor).dump(person_view)
    return jsonify(body)


@bp.patch("/people/<int:person_id>")
@requires_role(*WRITERS)
@bp.arguments(schemas.PersonUpdateSchema)
@bp.response(200, schemas.PersonSchema)
def update_person(payload: dict[str, Any], person_id: int) -> Person:
    """Change a person's name, sex, dates or child/adult status."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        since = payload.pop("unchanged_since", None)
        person = families.update_person(
            ctx, person_id=person_id, changes=payload, unchanged_since=since
        )
    return person


@bp.post("/people/<int:person_id>/relationships")
@requires_role(*WRITERS)
@bp.arguments(schemas.RelationshipCreateSchema)
@bp.response(201, schemas.RelationshipRecordSchema)
def add_relationship(payload: dict[str, Any], person_id: int) -> PersonRelationship:
    """Record that this person is `relationship` of another (`person_id` in the body).

    409 if the two already have a recorded relationship: remove it first to record another.
    """
    ctx = command_context()
    with unit_of_work(ctx.session):
        row = families.add_relationship(
            ctx,
            person_id=person_id,
            related_person_id=payload["person_id"],
            relationship=payload["relationship"],
            parental_responsibility=payload["parental_responsibility"],
        )
    return row


@bp.delete("/people/<int:person_id>/relationships/<int:related_person_id>")
@requires_role(*WRITERS)
@bp.response(204)
def remove_relationship(person_id: int, related_person_id: int) -> None:
    """Remove the relationship recorded between two people, either way round (recorded in
    error, or to record another). 404 if there is none. Audited with what it said."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        families.remove_relationship(ctx, person_id=person_id, related_person_id=related_person_id)


@bp.post("/people/<int:person_id>/ethnicity")
@requires_role(*WRITERS)
@bp.arguments(schemas.EthnicityCreateSchema)
@bp.response(201, schemas.EthnicityRecordSchema)
def record_ethnicity(payload: dict[str, Any], person_id: int) -> EthnicityRecord:
    """Record the person's ethnicity as a new current record (history is kept)."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        record = ethnicity.record_ethnicity(ctx, person_id=person_id, **payload)
    return record


@bp.post("/people/<int:person_id>/disabilities")
@requires_role(*WRITERS)
@bp.arguments(schemas.DisabilityCreateSchema)
@bp.response(201, schemas.DisabilityRecordSchema)
def record_disabilities(payload: dict[str, Any], person_id: int) -> DisabilityRecord:
    """Record the person's current DfE disability codes."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        record = disabilities.record_disabilities(
            ctx, person_id=person_id, disability_codes=payload["codes"]
        )
    return record


@bp.post("/families/<int:family_id>/consents")
@requires_role(*WRITERS)
@bp.arguments(schemas.ConsentCreateSchema)
@bp.response(201, schemas.ConsentSchema)
def record_consent(payload: dict[str, Any], family_id: int) -> ConsentRecord:
    """Record consent given, refused, or not sought with a reason."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        record = consent_service.record_consent(ctx, family_id=family_id, **payload)
    return record


@bp.post("/consents/<int:consent_id>/withdraw")
@requires_role(*WRITERS)
@bp.arguments(schemas.ConsentWithdrawSchema)
@bp.response(200, schemas.ConsentSchema)
def withdraw_consent(payload: dict[str, Any], consent_id: int) -> ConsentRecord:
    """Record that consent has been withdrawn."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        record = consent_service.withdraw_consent(ctx, consent_id=consent_id, **payload)
    return record


@bp.post("/families/<int:family_id>/information-sharing")
@requires_role(*WRITERS)
@bp.arguments(schemas.SharingCreateSchema)
@bp.response(201, schemas.SharingDecisionSchema)
def record_information_sharing(
    payload: dict[str, Any], family_id: int
) -> InformationSharingDecision:
    """Record a decision to share information or not, with the reasons either way."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        decision = consent_service.record_information_sharing(ctx, family_id=family_id, **payload)
    return decision
