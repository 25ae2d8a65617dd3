"""Household membership pages: record that a member has left, and that they are back."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from api.common.auth import requires_role
from api.common.context import command_context
from domain.context import Context
from domain.db import unit_of_work
from domain.errors import ConflictError, ValidationFailedError
from domain.families import membership, policies
from domain.families import service as families
from domain.families.models import Person
from web import people_forms as forms
from web.formrender import check_submission
from web.pages.families import FAMILY_FORM, FORM_ERROR_STATUS, render_form_page
from web.pages.session import notify

bp = Blueprint("pages_households", __name__)


@bp.route("/families/<int:family_id>/members/<int:person_id>/left", methods=["GET", "POST"])
@requires_role(*policies.WRITERS)
def record_left(family_id: int, person_id: int) -> tuple[str, int] | Response:
    """Record that a member has left the household (they stay on the family record)."""
    ctx = command_context()
    family = families.get_family(ctx, family_id)
    person = _member_of(ctx, family.id, person_id)
    name = forms.person_name(person)
    back = url_for("pages_families.family_page", family_id=family.id)
    schema = forms.left_schema()
    page = {
        "title": f"Record that {name} has left the household",
        "caption": family.reference or family.name or "",
        "back_url": back,
        "button": "Save",
        "intro": "They stay on the family record and its timeline, with the day they left: "
        "someone who has left can still matter to the children's safety. If they come back, "
        "record that on the family page.",
        "once": False,  # sent twice, the second is refused: their leaving is recorded already
    }
    if request.method == "GET":
        return render_form_page(FAMILY_FORM, page, schema, {}, [])
    data, errors = check_submission(schema, request.form)
    if not errors:
        try:
            with unit_of_work(ctx.session):
                membership.record_left(
                    ctx,
                    family_id=family.id,
                    person_id=person.id,
                    left_on=date.fromisoformat(str(data["left_on"])),
                    reason=str(data.get("reason") or "") or None,
                )
            notify("success", f"{name} is recorded as having left the household")
            return redirect(f"{back}#person-{person.id}")
        except ValidationFailedError as exc:
            errors = forms.field_errors(exc, forms.LEFT_FIELDS, "left_on")
        except ConflictError as exc:  # recorded meanwhile (or sent twice): show what is recorded
            notify("important", str(exc))
            return redirect(f"{back}#person-{person.id}")
    return render_form_page(FAMILY_FORM, page, schema, data, errors, FORM_ERROR_STATUS)


@bp.post("/families/<int:family_id>/members/<int:person_id>/returned")
@requires_role(*policies.WRITERS)
def record_returned(family_id: int, person_id: int) -> Response:
    """Record that a member who had left lives in the household again."""
    ctx = command_context()
    family = families.get_family(ctx, family_id)
    person = _member_of(ctx, family.id, person_id)
    back = url_for("pages_families.family_page", family_id=family.id) + f"#person-{person.id}"
    try:
        with unit_of_work(ctx.session):
            membership.record_returned(ctx, family_id=family.id, person_id=person.id)
        notify("success", f"{forms.person_name(person)} is recorded as living in the household")
    except ConflictError as exc:
        notify("important", str(exc))
    return redirect(back)


def _member_of(ctx: Context, family_id: int, person_id: int) -> Person:
    """A member of the household, or a 404 page."""
    for person in families.members_of(ctx, family_id):
        if person.id == person_id:
            return person
    raise NotFound()
