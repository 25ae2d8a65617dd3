"""Family, person, ethnicity, disability, consent and sharing schemas, with per-role redaction."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.rest.common import Flag, Id, Offset, StrictSchema
from domain.context import Actor
from domain.families import codes, policies
from domain.families.ethnicity import census_code, ethnicity_history
from domain.families.history import TIMELINE_SHOWS
from domain.families.models import Family

NAME = validate.Length(min=1, max=100)
TEXT = validate.Length(min=1, max=2000)

# --- Input ----------------------------------------------------------------------------------


class FamilyCreateSchema(StrictSchema):
    """Open a household record."""

    name = fields.String(validate=validate.Length(min=1, max=200), load_default=None)


class FamilyQuerySchema(StrictSchema):
    """Search by family reference, household name or member name."""

    search = fields.String(
        validate=validate.Length(max=100),
        load_default=None,
        metadata={
            "description": "Words that must all be in the family's reference or household name,"
            " or all in one member's name, in any order. Accents, capitals and punctuation are"
            " ignored: `zoe obrien` finds Zoë O'Brien. Without a letter or digit nothing matches."
        },
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = Offset()


class MatchQuerySchema(StrictSchema):
    """The person about to be added: their name and, if known, date of birth."""

    given_name = fields.String(required=True, validate=NAME)
    family_name = fields.String(required=True, validate=NAME)
    date_of_birth = fields.Date(load_default=None)


class TimelineQuerySchema(StrictSchema):
    """Which page of the timeline: what it shows, and the entry it continues after."""

    show = fields.String(
        load_default="all",
        validate=validate.OneOf(sorted(TIMELINE_SHOWS)),
        metadata={
            "description": "`all`, `processes` (processes and their tasks) or `records` "
            "(changes to the family record)."
        },
    )
    before = Id(
        load_default=None,
        metadata={"description": "An entry's id (a page's `older_than`): the entries after it."},
    )


class PersonCreateSchema(StrictSchema):
    """A new person. Give the date of birth, the expected date (unborn), or is_child."""

    given_name = fields.String(required=True, validate=NAME)
    family_name = fields.String(required=True, validate=NAME)
    sex = fields.String(required=True, validate=validate.OneOf(sorted(codes.SEXES)))
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    expected_date_of_birth = fields.Date(load_default=None, allow_none=True)
    is_child = Flag(load_default=None, allow_none=True)


class PersonUpdateSchema(StrictSchema):
    """Change only the fields given.

    Send `unchanged_since` (the person's `updated_at` as you read it) so that a change someone
    else made after you read them is refused (409), not overwritten.
    """

    given_name = fields.String(validate=NAME)
    family_name = fields.String(validate=NAME)
    sex = fields.String(validate=validate.OneOf(sorted(codes.SEXES)))
    date_of_birth = fields.Date(allow_none=True)
    expected_date_of_birth = fields.Date(allow_none=True)
    is_child = Flag(allow_none=True)
    unchanged_since = fields.AwareDateTime(
        metadata={"description": "The person's updated_at as you read it (recommended)."}
    )


class RelationshipCreateSchema(StrictSchema):
    """The new member is `relationship` of `person_id` (an existing member of the family)."""

    person_id = Id(required=True)
    relationship = fields.String(
        required=True, validate=validate.OneOf(sorted(codes.RELATIONSHIP_KINDS))
    )
    parental_responsibility = Flag(load_default=False)


class RelationshipRecordSchema(Schema):
    """A recorded relationship: `person_id` is `kind` of `related_person_id` (the inverse is
    implied: a parent's child, a step-parent's step-child)."""

    person_id = fields.Integer()
    related_person_id = fields.Integer()
    kind = fields.String()
    parental_responsibility = fields.Boolean(
        metadata={"description": "`person_id` holds parental responsibility for the other."}
    )


class MemberCreateSchema(StrictSchema):
    """Add a new person (`person`) or an existing one (`person_id`) to the household."""

    person = fields.Nested(PersonCreateSchema, load_default=None, allow_none=True)
    person_id = Id(load_default=None, allow_none=True)
    relationships = fields.List(
        fields.Nested(RelationshipCreateSchema), load_default=list, validate=validate.Length(max=50)
    )


class EthnicityCreateSchema(StrictSchema):
    """The person's own answer (or a parent's, or an observation). See domain brief §9."""

    code = fields.String(load_default=None, validate=validate.OneOf(sorted(codes.ETHNICITY_CODES)))
    ons2021 = fields.String(load_default=None, validate=validate.OneOf(sorted(codes.ONS_2021)))
    extended_code = fields.String(
        load_default=None, validate=validate.OneOf(sorted(codes.EXTENDED_CODES))
    )
    self_description = fields.String(load_default=None, validate=validate.Length(max=200))
    source = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(sorted(codes.ETHNICITY_SOURCES)),
    )


class DisabilityCreateSchema(StrictSchema):
    """DfE disability codes; NONE alone when the person has no disability."""

    codes = fields.List(
        fields.String(validate=validate.OneOf(list(codes.DISABILITY_CODES))),
        required=True,
        validate=validate.Length(min=1, max=len(codes.DISABILITY_CODES)),
    )


class ConsentCreateSchema(StrictSchema):
    """Consent given or refused by a member, or not sought with a reason."""

    scope = fields.String(required=True, validate=validate.OneOf(sorted(codes.CONSENT_SCOPES)))
    status = fields.String(required=True, validate=validate.OneOf(sorted(codes.CONSENT_STATUSES)))
    given_by_person_id = Id(load_default=None, allow_none=True)
    competent_child = Flag(load_default=False)
    obtained_on = fields.Date(load_default=None, allow_none=True)
    method = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(sorted(codes.CONSENT_METHODS))
    )
    not_sought_reason = fields.String(load_default=None, validate=validate.Length(max=500))
    instance_id = Id(load_default=None, allow_none=True)


class ConsentWithdrawSchema(StrictSchema):
    """When consent was withdrawn (today if left out)."""

    withdrawn_on = fields.Date(load_default=None)


class SharingCreateSchema(StrictSchema):
    """A decision to share or not, with the reasons either way (golden rule 7)."""

    shared = Flag(required=True)
    information = fields.String(load_default=None, validate=TEXT)
    recipients = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=30),
    )
    purpose = fields.String(required=True, validate=TEXT)
    lawful_basis = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    consent_status = fields.String(
        required=True, validate=validate.OneOf(sorted(codes.SHARING_CONSENT_STATUSES))
    )
    consent_id = Id(load_default=None, allow_none=True)
    instance_id = Id(load_default=None, allow_none=True)


# --- Output ---------------------------------------------------------------------------------


class PersonSchema(Schema):
    """A person's recorded details (no special category data)."""

    id = fields.Integer()
    given_name = fields.String()
    family_name = fields.String()
    sex = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    expected_date_of_birth = fields.Date(allow_none=True)
    is_unborn = fields.Boolean()
    recorded_is_child = fields.Boolean(allow_none=True)
    updated_at = fields.DateTime()


class FamilySchema(Schema):
    """A household with its members' names."""

    id = fields.Integer()
    reference = fields.String()
    name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    members = fields.Method("get_members")

    def get_members(self, family: Family) -> list[dict[str, Any]]:
        """Members' ids and names, in the order they were added."""
        return [
            {
                "id": m.person.id,
                "given_name": m.person.given_name,
                "family_name": m.person.family_name,
            }
            for m in family.memberships
        ]


class HouseholdSchema(Schema):
    """A household's id, reference and name."""

    id = fields.Integer()
    reference = fields.String()
    name = fields.String(allow_none=True)


class PossibleMatchSchema(Schema):
    """Someone already recorded who may be the person about to be added.

    Add them with `person_id` instead of recording them again. `in_this_family`: they are
    already a member of this household.
    """

    person = fields.Nested(PersonSchema)
    households = fields.List(fields.Nested(HouseholdSchema))
    in_this_family = fields.Boolean()


class EthnicityRecordSchema(Schema):
    """One ethnicity record. `observed` records are exported as NOBT (`census_code`)."""

    id = fields.Integer()
    person_id = fields.Integer()
    code = fields.String()
    extended_code = fields.String(allow_none=True)
    ons2021 = fields.String(allow_none=True)
    self_description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    status = fields.String()
    observed = fields.Boolean()
    census_code = fields.Function(census_code)
    recorded_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()


class DisabilityRecordSchema(Schema):
    """One disability record."""

    id = fields.Integer()
    person_id = fields.Integer()
    codes = fields.List(fields.String())
    recorded_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()


class RelationSchema(Schema):
    """What another person is to this one."""

    person_id = fields.Integer()
    relationship = fields.String()
    parental_responsibility = fields.Boolean()
    responsibility_holder_id = fields.Integer(allow_none=True)


class MemberSchema(Schema):
    """A member in the Think Family view (a `MemberView`)."""

    id = fields.Integer(attribute="person.id")
    given_name = fields.String(attribute="person.given_name")
    family_name = fields.String(attribute="person.family_name")
    sex = fields.String(attribute="person.sex")
    date_of_birth = fields.Date(attribute="person.date_of_birth", allow_none=True)
    expected_date_of_birth = fields.Date(attribute="person.expected_date_of_birth", allow_none=True)
    age_years = fields.Integer(allow_none=True)
    age_label = fields.String()
    under_5 = fields.Boolean()
    is_child = fields.Boolean()
    is_unborn = fields.Boolean()
    relationships = fields.List(fields.Nested(RelationSchema))
    family_ids = fields.List(fields.Integer())
    ethnicity = fields.Nested(EthnicityRecordSchema, allow_none=True)
    ethnicity_status = fields.String(allow_none=True)
    census_ethnicity = fields.String(allow_none=True)
    disabilities = fields.List(fields.String(), allow_none=True)
    updated_at = fields.DateTime(
        attribute="person.updated_at",
        metadata={"description": "Send it back as `unchanged_since` when changing the person."},
    )
    left_on = fields.Date(
        allow_none=True,
        metadata={"description": "The day they left this household; null while they live there."},
    )
    left_reason = fields.String(allow_none=True)


HOUSEHOLD_FIELDS = ("left_on", "left_reason")
"""Member fields about one household, so not on a person's own record."""


class LeftCreateSchema(StrictSchema):
    """A member has left the household: the day they left and, optionally, why."""

    left_on = fields.Date(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class MembershipSchema(Schema):
    """A person's membership of a household."""

    family_id = fields.Integer()
    person_id = fields.Integer()
    left_on = fields.Date(allow_none=True)
    left_reason = fields.String(allow_none=True)


class PersonDetailSchema(MemberSchema):
    """A person with their ethnicity history (newest first)."""

    ethnicity_history = fields.Function(
        lambda m: EthnicityRecordSchema(many=True).dump(ethnicity_history(m.person))
    )


class ProcessViewSchema(Schema):
    """A process of the household or a member."""

    instance_id = fields.Integer()
    reference = fields.String(allow_none=True)
    process_key = fields.String()
    title = fields.String()
    status = fields.String()
    open = fields.Boolean()
    current_stage = fields.String(allow_none=True)
    next_due_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    family_id = fields.Integer(allow_none=True)
    subject_person_ids = fields.List(fields.Integer())


class TimelineEntrySchema(Schema):
    """A timeline entry: ids, codes and titles only.

    `person_id` is the person it happened to; for a recorded relationship, `person_id` is
    `relationship` of `other_person_id`. `changed` names the details changed, not their values.
    """

    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    title = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    instance_id = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)
    person_id = fields.Integer(allow_none=True)
    other_person_id = fields.Integer(allow_none=True)
    relationship = fields.String(allow_none=True)
    changed = fields.List(fields.String())
    status = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    agency_id = fields.Integer(allow_none=True)


class TimelinePageSchema(Schema):
    """A page of the timeline, newest first. Ask again with `before` = `older_than` for the
    next; `older_than` is null on the last page."""

    entries = fields.List(fields.Nested(TimelineEntrySchema))
    show = fields.String()
    older_than = fields.Integer(allow_none=True)


class ConsentSchema(Schema):
    """A consent record; `active` while given and not withdrawn."""

    id = fields.Integer()
    family_id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    scope = fields.String()
    status = fields.String()
    active = fields.Function(lambda c: c.status == codes.CONSENT_GIVEN and c.withdrawn_on is None)
    given_by_person_id = fields.Integer(allow_none=True)
    competent_child = fields.Boolean()
    obtained_on = fields.Date(allow_none=True)
    method = fields.String(allow_none=True)
    not_sought_reason = fields.String(allow_none=True)
    withdrawn_on = fields.Date(allow_none=True)
    recorded_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()


class SharingDecisionSchema(Schema):
    """An information-sharing decision."""

    id = fields.Integer()
    family_id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    shared = fields.Boolean()
    information = fields.String(allow_none=True)
    recipients = fields.List(fields.String())
    purpose = fields.String()
    lawful_basis = fields.String(allow_none=True)
    consent_status = fields.String()
    consent_id = fields.Integer(allow_none=True)
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime()


class FamilyViewSchema(Schema):
    """The Think Family view (a `FamilyView`)."""

    family = fields.Function(
        lambda v: {"id": v.family.id, "reference": v.family.reference, "name": v.family.name}
    )
    special_category_visible = fields.Boolean()
    members = fields.List(fields.Nested(MemberSchema))
    processes = fields.List(fields.Nested(ProcessViewSchema))
    timeline = fields.List(
        fields.Nested(TimelineEntrySchema),
        attribute="timeline.entries",
        metadata={"description": "The newest page of the timeline (`/timeline` pages on)."},
    )
    timeline_older_than = fields.Integer(allow_none=True, attribute="timeline.older_than")
    consents = fields.List(fields.Nested(ConsentSchema))
    information_sharing = fields.List(
        fields.Nested(SharingDecisionSchema), attribute="sharing_decisions"
    )


# --- Redaction by role ----------------------------------------------------------------------

SPECIAL_FIELDS = ("ethnicity", "ethnicity_status", "census_ethnicity", "disabilities")


def member_fields(actor: Actor | None, schema: type[Schema] = MemberSchema) -> tuple[str, ...]:
    """The member fields this actor may see: special category only for practitioners/managers."""
    names = tuple(schema._declared_fields)
    hidden = (*SPECIAL_FIELDS, "ethnicity_history")
    if policies.may_see_special_category(actor):
        return names
    return tuple(n for n in names if n not in hidden)


def family_view_schema(actor: Actor | None) -> FamilyViewSchema:
    """The view schema for this actor's role."""
    others = [n for n in FamilyViewSchema._declared_fields if n != "members"]
    return FamilyViewSchema(only=(*others, *(f"members.{n}" for n in member_fields(actor))))


def person_detail_schema(actor: Actor | None) -> PersonDetailSchema:
    """The person schema for this actor's role."""
    shown = member_fields(actor, PersonDetailSchema)
    return PersonDetailSchema(only=tuple(n for n in shown if n not in HOUSEHOLD_FIELDS))
