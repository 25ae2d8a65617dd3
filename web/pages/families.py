"""Family pages: find a family, the Think Family view, add and edit a person, ethnicity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from api.common.auth import requires_role
from api.common.context import command_context
from domain.context import Context
from domain.db import unit_of_work
from domain.errors import ConflictError, NotFoundError, ValidationFailedError
from domain.families import codes, matching, policies
from domain.families import ethnicity as ethnicity_service
from domain.families import service as families
from domain.families import view as family_view
from domain.families.history import TIMELINE_SHOWS
from domain.families.models import Person
from domain.forms import FieldError
from domain.lanes import PRACTITIONER, TEAM_MANAGER
from domain.submissions import service as submissions
from web import ethnicity_form, resend
from web import people_forms as forms
from web.formrender import build_fields, check_submission
from web.pages.session import notify
from web.reports import render_page

bp = Blueprint("pages_families", __name__)

FORM_ERROR_STATUS = 200  # as the task pages: the form is shown again with its errors
SEARCH_LIMIT = 50
FAMILY_FORM = "families/family_form.html"
PERSON_FORM = "families/person_form.html"
START_LINKS = (
    ("referral", "Make a referral"),
    ("mdt_meeting", "Arrange a multi-agency meeting"),
    ("escalation", "Raise an escalation"),
    ("early_help", "Start early help"),
)


@bp.get("/families")
@requires_role(*policies.READERS)
def family_list() -> str:
    """Find a family by reference, household name or a member's name."""
    ctx = command_context()
    query = request.args.get("q", "").strip()[:100]
    found = families.list_families(ctx, search=query or None, limit=SEARCH_LIMIT)
    return render_page(
        "families/list.html",
        query=query,
        found=found,
        limit=SEARCH_LIMIT,
        name=forms.person_name,
        may_add=ctx.actor is None or ctx.actor.has_role(*policies.WRITERS),
    )


@bp.route("/families/new", methods=["GET", "POST"])
@requires_role(*policies.WRITERS)
def add_family() -> tuple[str, int] | Response:
    """Open a household record (search first: the families page links here)."""
    ctx = command_context()
    schema = forms.family_schema()
    back = url_for("pages_families.family_list")
    page: dict[str, Any] = {
        "title": "Add a family",
        "caption": None,
        "intro": "Search for the family first: a household is recorded once. You add the "
        "people in it next, and anyone already recorded in another household is offered then.",
        "back_url": back,
        "button": "Add family",
        "once": True,  # a one-time token: sent twice, it adds one family
    }
    if request.method == "GET":
        return render_form_page(FAMILY_FORM, page, schema, {}, [])
    data, errors = check_submission(schema, request.form)
    token = resend.sent_token()
    earlier = resend.earlier_result(ctx, token)
    if earlier is not None:  # sent twice: the first sending added the family
        return earlier
    if not errors:
        reference = str(data.get("reference") or "").strip().upper() or None
        try:
            with unit_of_work(ctx.session):
                family = families.create_family(
                    ctx, name=str(data["name"]).strip(), reference=reference
                )
                family_id, shown = family.id, family.reference
                result = url_for("pages_families.family_page", family_id=family_id)
                submissions.record(ctx, token, result)
            notify("success", f"Family {shown} was added: now add the people in it")
            return redirect(result)
        except ValidationFailedError as exc:
            errors = forms.field_errors(exc, forms.FAMILY_FIELDS, "name")
        except submissions.AlreadySentError:  # sent twice at once: the other sending added it
            return resend.earlier_result(ctx, token) or redirect(back)
        except ConflictError as exc:
            errors = [FieldError("#/reference", "reference", str(exc).rstrip("."))]
    return render_form_page(FAMILY_FORM, page, schema, data, errors, FORM_ERROR_STATUS)


@bp.get("/families/<int:family_id>")
@requires_role(*policies.READERS)
def family_page(family_id: int) -> str:
    """The Think Family view of a household."""
    ctx = command_context()
    show = request.args.get("show", "all")
    if show not in TIMELINE_SHOWS:  # a hand-made address: show the whole timeline
        show = "all"
    before = request.args.get("before", type=int)
    with unit_of_work(ctx.session):  # the view writes the access (and special category) log
        view = family_view.get_family_view(ctx, family_id, show=show, before=before)
        members = [m.person for m in view.members]
        names = {person.id: forms.person_name(person) for person in members}
        may_write = ctx.actor is None or ctx.actor.has_role(*policies.WRITERS)
        return render_page(
            "families/family.html",
            view=view,
            names=names,
            may_write=may_write,
            may_start=ctx.actor is not None and ctx.actor.has_role(PRACTITIONER, TEAM_MANAGER),
            start_links=START_LINKS,
            relationship_label=forms.relationship_label,
            sexes=codes.SEXES,
            ethnicity_labels=codes.ETHNICITY_CODES,
            ons=codes.ONS_2021,
            source_labels=ethnicity_form.SOURCE_LABELS,
            timeline_shows=forms.TIMELINE_SHOW_LABELS,
            timeline_names=family_view.timeline_names(ctx, view.timeline, members),
            timeline_text=forms.timeline_text,
        )


def render_form_page(
    template: str,
    template_values: dict[str, Any],
    schema: dict[str, Any],
    values: dict[str, Any],
    errors: Sequence[FieldError],
    status: int = 200,
) -> tuple[str, int]:
    """A form page: its questions built from `schema`, with `values` and `errors` shown."""
    fields = build_fields(schema, values, errors)
    return render_page(template, fields=fields, errors=errors, **template_values), status


@bp.route("/families/<int:family_id>/members/new", methods=["GET", "POST"])
@requires_role(*policies.WRITERS)
def add_member(family_id: int) -> tuple[str, int] | Response:
    """Add a person to the household, with how they relate to the other members."""
    ctx = command_context()
    family = families.get_family(ctx, family_id)
    others = families.members_of(ctx, family.id)
    schema = forms.person_schema(others)
    page = {
        "title": "Add a person to the family",
        "caption": family.reference or family.name or "",
        "back_url": url_for("pages_families.family_page", family_id=family.id),
        "button": "Add person",
    }
    if request.method == "GET":
        return render_form_page(PERSON_FORM, page, schema, {}, [])
    data, errors = check_submission(schema, request.form)
    chosen = forms.chosen_relationships(data)
    errors = errors or forms.responsibility_errors(data, chosen, others)
    token = resend.sent_token()
    earlier = resend.earlier_result(ctx, token)
    if earlier is not None:  # sent twice: the first sending added the person
        return earlier
    if errors:
        return render_form_page(PERSON_FORM, page, schema, data, errors, FORM_ERROR_STATUS)
    details = forms.person_details(data)
    matches = matching.possible_matches(
        ctx,
        family_id=family.id,
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        shown=False,  # audited below only when the question shows them
    )
    offered = ",".join(str(m.person.id) for m in matches)
    choice = request.form.get("match_choice", "")
    if matches and request.form.get("offered") != offered:
        # first asked, or the name or date changed since: ask (again) about these people
        return _render_matches(ctx, family.id, page, schema, data, matches, offered, "", "")
    if matches and not _valid_choice(choice, matches):
        message = "Say whether this is one of the people already recorded or someone new"
        return _render_matches(
            ctx, family.id, page, schema, data, matches, offered, choice, message
        )
    relationships = [families.RelationshipInput(o, kind, holds) for o, kind, holds in chosen]
    result = url_for("pages_families.family_page", family_id=family.id)
    try:
        with unit_of_work(ctx.session):
            if matches and choice != "new":
                person = families.add_member(
                    ctx, family_id=family.id, person_id=int(choice), relationships=relationships
                )
                message = f"{forms.person_name(person)}, already recorded, was added to the family"
            else:
                person = families.add_member(
                    ctx, family_id=family.id, person=details, relationships=relationships
                )
                message = f"{forms.person_name(person)} was added to the family"
            submissions.record(ctx, token, result)
        notify("success", message)
        return redirect(result)
    except ValidationFailedError as exc:
        errors = forms.member_errors(exc, chosen)
    except submissions.AlreadySentError:  # sent twice at once: the other sending added them
        return resend.earlier_result(ctx, token) or redirect(result)
    return render_form_page(PERSON_FORM, page, schema, data, errors, FORM_ERROR_STATUS)


def _valid_choice(choice: str, matches: Sequence[matching.PossibleMatch]) -> bool:
    """`new`, or the id of someone offered (not already in this household)."""
    return choice == "new" or choice in {str(m.person.id) for m in matches if not m.in_this_family}


def _render_matches(
    ctx: Context,
    family_id: int,
    page: dict[str, Any],
    schema: dict[str, Any],
    data: dict[str, Any],
    matches: Sequence[matching.PossibleMatch],
    offered: str,
    choice: str,
    message: str,
) -> tuple[str, int]:
    """The form again, asking first whether the person is someone already recorded."""
    with unit_of_work(ctx.session):  # showing other households' people is audited
        matching.record_shown(ctx, family_id, matches)
    errors = [FieldError("#/match_choice", "match_choice", message)] if message else []
    values = {
        **page,
        "matches": matches,
        "offered": offered,
        "choice": choice,
        "match_error": message,
        "name": forms.person_name,
        "button": "Continue",
    }
    return render_form_page(PERSON_FORM, values, schema, data, errors, FORM_ERROR_STATUS)


def _family_of(memberships: Sequence[int]) -> int | None:
    wanted = request.values.get("family_id", type=int)
    if wanted is not None and wanted in memberships:
        return wanted
    return memberships[0] if memberships else None


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@requires_role(*policies.WRITERS)
def edit_person(person_id: int) -> tuple[str, int] | Response:
    """Change a person's details, and record how they relate to others in their households."""
    ctx = command_context()
    person = families.get_person(ctx, person_id)
    (member,) = family_view.member_views(ctx, [person], special=False)
    family_id = _family_of(member.family_ids)
    others: dict[int, Person] = {}
    known_names: dict[int, str] = {}
    for fid in member.family_ids:
        for other in families.members_of(ctx, fid):
            known_names[other.id] = forms.person_name(other)
            if other.id != person.id:
                others.setdefault(other.id, other)
    # relationships to members are questions of the form (to change or remove them); those
    # to people in no household of theirs are listed above it
    answers = forms.recorded_answers(member.relationships)
    recorded = {other: answer for other, answer in answers.items() if other in others}
    schema = forms.person_schema(list(others.values()))
    back = (
        url_for("pages_families.family_page", family_id=family_id)
        if family_id is not None
        else url_for("pages_families.family_list")
    )
    page = {
        "title": f"Change {forms.person_name(person)}'s details",
        "caption": forms.person_name(person),
        "back_url": back,
        "button": "Save changes",
        "family_id": family_id,
        "relationships": [r for r in member.relationships if r.person_id not in others],
        "relationship_label": forms.relationship_label,
        "known_names": known_names,
        # the version the editor read: a save after someone else's is refused, not merged
        "unchanged_since": request.form.get("unchanged_since") or person.updated_at.isoformat(),
        "relationships_seen": request.form.get("relationships_seen", _seen(recorded)),
    }
    if request.method == "GET":
        values = {**forms.person_values(person), **forms.relationship_values(recorded)}
        return render_form_page(PERSON_FORM, page, schema, values, [])
    since = _instant(request.form.get("unchanged_since"))
    data, errors = check_submission(schema, request.form)
    answered = forms.relationship_answers(data)
    chosen = forms.chosen_relationships(data)
    errors = errors or forms.responsibility_errors(data, chosen, list(others.values()))
    if not errors:
        try:
            with unit_of_work(ctx.session):
                families.update_person(
                    ctx,
                    person_id=person.id,
                    changes=forms.person_changes(data),
                    unchanged_since=since,
                )
                seen = request.form.get("relationships_seen")
                if seen is not None and seen != _seen(recorded):
                    raise ConflictError(families.STALE_EDIT)  # changed from another's page
                for other_id, answer in answered.items():
                    if answer == recorded.get(other_id):
                        continue
                    if other_id in recorded:
                        try:
                            families.remove_relationship(
                                ctx, person_id=person.id, related_person_id=other_id
                            )
                        except NotFoundError as exc:  # removed by someone else just now
                            raise ConflictError(families.STALE_EDIT) from exc
                    if answer is not None:
                        _relate(ctx, person.id, other_id, *answer)
                name = forms.person_name(person)
            notify("success", f"{name}'s details were saved")
            return redirect(back)
        except ValidationFailedError as exc:
            errors = forms.field_errors(exc, forms.PERSON_FIELDS, "given_name")
    return render_form_page(PERSON_FORM, page, schema, data, errors, FORM_ERROR_STATUS)


def _seen(recorded: dict[int, tuple[str, bool]]) -> str:
    """The relationships an editor was shown, as a hidden field compares them on saving."""
    return ";".join(f"{o}:{kind}:{int(holds)}" for o, (kind, holds) in sorted(recorded.items()))


def _instant(value: str | None) -> datetime | None:
    """The aware instant a hidden form field carries (None when the form predates it)."""
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise BadRequest("The form was changed in transit. Reload the page and try again.")
    return instant


def _relate(ctx: Context, person_id: int, other: int, kind: str, holds: bool) -> None:
    try:
        families.add_relationship(
            ctx,
            person_id=person_id,
            related_person_id=other,
            relationship=kind,
            parental_responsibility=holds,
        )
    except ValidationFailedError as exc:
        field = f"relationship_{other}"
        raise ValidationFailedError(
            exc.detail,
            [
                {
                    "pointer": f"#/{field}",
                    "detail": str(item.get("detail", "")),
                    "field": field,
                }
                for item in exc.errors
            ],
        ) from exc


@bp.route("/people/<int:person_id>/ethnicity", methods=["GET", "POST"])
@requires_role(*policies.WRITERS)
def person_ethnicity(person_id: int) -> tuple[str, int] | Response:
    """Ask one person's ethnicity: their own answer, a refusal, or not asked yet."""
    ctx = command_context()
    policies.ensure_can_see_special_category(ctx)
    schema = ethnicity_form.ethnicity_schema()
    if request.method == "POST":
        data, errors = check_submission(schema, request.form)
        if not errors:
            try:
                with unit_of_work(ctx.session):
                    ethnicity_service.record_ethnicity(
                        ctx, person_id=person_id, **ethnicity_form.ethnicity_arguments(data)
                    )
                    person = families.get_person(ctx, person_id)
                    name = forms.person_name(person)
                    back = _back_to_family(ctx, person)
                notify("success", f"Ethnicity recorded for {name}")
                return redirect(back)
            except ValidationFailedError as exc:
                errors = forms.field_errors(exc, ethnicity_form.ETHNICITY_FIELDS, "answer")
        return _render_ethnicity(ctx, person_id, schema, data, errors, FORM_ERROR_STATUS)
    return _render_ethnicity(ctx, person_id, schema, {}, [], 200)


def _back_to_family(ctx: Context, person: Person) -> str:
    (member,) = family_view.member_views(ctx, [person], special=False)
    family_id = _family_of(member.family_ids)
    if family_id is None:
        return url_for("pages_families.family_list")
    return url_for("pages_families.family_page", family_id=family_id)


def _render_ethnicity(
    ctx: Context,
    person_id: int,
    schema: dict[str, Any],
    values: dict[str, Any],
    errors: Sequence[FieldError],
    status: int,
) -> tuple[str, int]:
    with unit_of_work(ctx.session):  # reading special category data is logged
        member = family_view.get_person_view(ctx, person_id)
        person = member.person
        fields = build_fields(schema, values, errors)
        page = render_page(
            "families/ethnicity.html",
            member=member,
            person=person,
            name=forms.person_name(person),
            history=ethnicity_service.ethnicity_history(person),
            back_url=_back_to_family(ctx, person),
            family_id=request.values.get("family_id", type=int),
            fields=fields,
            errors=errors,
            ethnicity_labels=codes.ETHNICITY_CODES,
            ons=codes.ONS_2021,
            source_labels=ethnicity_form.SOURCE_LABELS,
        )
    return page, status
