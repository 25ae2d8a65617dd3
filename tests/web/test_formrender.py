"""The JSON Schema -> GOV.UK form renderer: fields, HTML, parsing and the error summary."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.datastructures import MultiDict

from domain.forms import FieldError, check_form_schema, validate_form
from web.assets import STATIC_DIR, register_assets
from web.formrender import (
    Field,
    FieldList,
    build_fields,
    check_submission,
    parse_submission,
)

# A worked example that uses every supported question shape.
EXAMPLE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Record a home visit",
    "description": "What happened at the visit and what was agreed.",
    "type": "object",
    "properties": {
        "observed": {
            "type": "string",
            "title": "What was observed?",
            "x-widget": "textarea",
        },
        "summary": {"type": "string", "title": "Summary for the family", "maxLength": 500},
        "worker_name": {"type": "string", "title": "Lead practitioner", "maxLength": 80},
        "visit_date": {
            "type": "string",
            "format": "date",
            "title": "Date of visit",
            "description": "For example, 27 3 2026",
        },
        "consent_given": {
            "type": "boolean",
            "title": "Was consent given?",
            "x-error-messages": {"required": "Select whether consent was given"},
        },
        "no_consent_reason": {
            "type": "string",
            "title": "Reason consent was not given",
            "x-widget": "textarea",
            "x-reveal-when": {"property": "consent_given", "value": False},
        },
        "risk_level": {
            "type": "string",
            "title": "Risk level",
            "enum": ["low", "medium", "high"],
            "x-enum-labels": ["Low", "Medium", "High"],
        },
        "escalate_to": {
            "type": "string",
            "title": "Who will you escalate to?",
            "enum": ["dsl", "manager"],
            "x-enum-labels": ["Designated safeguarding lead", "Team manager"],
            "x-reveal-when": {"property": "risk_level", "value": "high"},
        },
        "agency": {
            "type": "string",
            "title": "Lead agency",
            "enum": ["social_care", "health", "school", "police", "housing", "probation", "other"],
        },
        "contact_method": {
            "type": "string",
            "title": "Contact method",
            "enum": ["phone", "visit"],
            "x-widget": "select",
        },
        "child_seen": {"type": "string", "title": "Child seen", "x-options-from": "children"},
        "present": {
            "type": "array",
            "title": "Who else was present?",
            "items": {"type": "string"},
            "x-options-from": "family_members",
        },
        "concerns": {
            "type": "array",
            "title": "Concerns",
            "description": "Select all that apply",
            "items": {
                "type": "string",
                "enum": ["neglect", "emotional", "physical"],
                "x-enum-labels": ["Neglect", "Emotional harm", "Physical harm"],
            },
        },
        "people_in_home": {
            "type": "integer",
            "title": "Number of people in the home",
            "minimum": 0,
            "maximum": 30,
        },
        "hours": {"type": "number", "title": "Hours spent", "exclusiveMinimum": 0},
        "actions": {
            "type": "array",
            "title": "Actions agreed",
            "x-rows": 2,
            "items": {
                "type": "object",
                "title": "Action",
                "properties": {
                    "what": {"type": "string", "title": "What will happen"},
                    "owner": {"type": "string", "title": "Owner"},
                    "due": {"type": "string", "format": "date", "title": "Due date"},
                },
                "required": ["what", "owner"],
            },
        },
    },
    "required": ["observed", "visit_date", "consent_given", "risk_level"],
    "allOf": [
        {
            "if": {
                "properties": {"consent_given": {"const": False}},
                "required": ["consent_given"],
            },
            "then": {"required": ["no_consent_reason"]},
        }
    ],
}

CHOICES: dict[str, list[tuple[str, str]]] = {
    "children": [("c1", "Alex"), ("c2", "Sam")],
    "family_members": [("m1", "Parent one"), ("m2", "Parent two")],
}


@pytest.fixture
def page_app() -> Flask:
    app = Flask("formrender_test", static_folder=str(STATIC_DIR))
    register_assets(app)
    app.jinja_env.globals["csrf_token"] = lambda: "test-token"
    return app


def render(app: Flask, fields: Sequence[Field], errors: Sequence[FieldError] = ()) -> str:
    with app.test_request_context("/"):
        return render_template_string(
            '{% from "macros/form.html" import render_form, error_summary %}'
            "{{ error_summary(errors, fields) }}{{ render_form(fields) }}",
            fields=fields,
            errors=list(errors),
        )


def posted(**values: str | list[str]) -> MultiDict[str, str]:
    form: MultiDict[str, str] = MultiDict()
    for key, value in values.items():
        for item in [value] if isinstance(value, str) else value:
            form.add(key.replace("__", "-"), item)
    return form


def by_name(fields: Sequence[Field]) -> dict[str, Field]:
    return {f.name: f for f in fields}


# --- the example schema --------------------------------------------------------------------


def test_example_schema_is_supported() -> None:
    assert check_form_schema(EXAMPLE) == []


def test_every_shape_maps_to_its_govuk_component() -> None:
    fields = build_fields(EXAMPLE, {}, [], CHOICES)
    kinds = {f.name: f.kind for f in fields}
    assert kinds == {
        "observed": "textarea",
        "summary": "character-count",
        "worker_name": "input",
        "visit_date": "date-input",
        "consent_given": "radios",
        "risk_level": "radios",
        "agency": "select",
        "contact_method": "select",
        "child_seen": "radios",
        "present": "checkboxes",
        "concerns": "checkboxes",
        "people_in_home": "input",
        "hours": "input",
        "actions": "repeat",
    }
    assert [f.name for f in fields] == [n for n in kinds]  # display order = schema order


def test_revealed_questions_sit_inside_their_radios_option() -> None:
    fields = by_name(build_fields(EXAMPLE, {}, [], CHOICES))
    consent = fields["consent_given"]
    assert [item["value"] for item in consent.params["items"]] == ["yes", "no"]
    assert [f.name for f in consent.reveals["no"]] == ["no_consent_reason"]
    assert [f.name for f in fields["risk_level"].reveals["high"]] == ["escalate_to"]
    assert "no_consent_reason" not in fields
    assert "escalate_to" not in fields


def test_labels_hints_and_numeric_inputs() -> None:
    fields = by_name(build_fields(EXAMPLE, {}, [], CHOICES))
    visit = fields["visit_date"]
    assert visit.params["fieldset"]["legend"]["text"] == "Date of visit"
    assert visit.params["hint"] == {"text": "For example, 27 3 2026"}
    assert visit.anchor == "visit_date-day"
    assert fields["people_in_home"].params["inputmode"] == "numeric"
    assert fields["hours"].params["inputmode"] == "decimal"
    assert fields["summary"].params["maxlength"] == 500
    assert fields["worker_name"].params["label"]["text"] == "Lead practitioner"
    assert "maxlength" not in fields["worker_name"].params


def test_enum_labels_and_dynamic_choices() -> None:
    fields = by_name(build_fields(EXAMPLE, {"child_seen": "c2"}, [], CHOICES))
    risk = [(i["value"], i["text"]) for i in fields["risk_level"].params["items"]]
    assert risk == [("low", "Low"), ("medium", "Medium"), ("high", "High")]
    child = [(i["value"], i["checked"]) for i in fields["child_seen"].params["items"]]
    assert child == [("c1", False), ("c2", True)]
    present = [i["text"] for i in fields["present"].params["items"]]
    assert present == ["Parent one", "Parent two"]
    agency = fields["agency"].params["items"]
    assert agency[0] == {"value": "", "text": "Select an option"}
    assert len(agency) == 8


def test_missing_dynamic_choices_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="children"):
        build_fields(EXAMPLE, {}, [], {"family_members": []})


def test_radios_can_be_forced_for_long_enums() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {
            "day": {
                "type": "string",
                "title": "Day",
                "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "x-widget": "radios",
            }
        },
    }
    assert check_form_schema(schema) == []
    assert build_fields(schema, {}, [])[0].kind == "radios"


def test_repeated_rows_show_existing_answers_plus_blank_rows() -> None:
    fields = by_name(build_fields(EXAMPLE, {}, [], CHOICES))
    actions = fields["actions"]
    assert [row.legend for row in actions.rows] == ["Action 1", "Action 2"]
    assert [f.name for f in actions.rows[1].fields] == [
        "actions-1-what",
        "actions-1-owner",
        "actions-1-due",
    ]
    values = {"actions": [{"what": "Visit", "owner": "SW"}]}
    filled = by_name(build_fields(EXAMPLE, values, [], CHOICES))["actions"]
    assert len(filled.rows) == 3
    assert filled.rows[0].fields[0].params["value"] == "Visit"
    assert "value" not in filled.rows[1].fields[0].params


def test_default_rows_is_three() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {
            "people": {
                "type": "array",
                "title": "People",
                "items": {
                    "type": "object",
                    "title": "Person",
                    "properties": {"name": {"type": "string", "title": "Name"}},
                },
            }
        },
    }
    assert len(build_fields(schema, {}, [])[0].rows) == 3


# --- HTML ----------------------------------------------------------------------------------


def test_rendered_form_uses_govuk_markup(page_app: Flask) -> None:
    html = render(page_app, build_fields(EXAMPLE, {}, [], CHOICES))
    for fragment in (
        'class="govuk-textarea" id="observed" name="observed"',
        'data-module="govuk-character-count" data-maxlength="500"',
        'name="visit_date-day"',
        'name="visit_date-month"',
        'name="visit_date-year"',
        "govuk-input--width-4",
        'id="conditional-consent_given-2"',
        'data-aria-controls="conditional-risk_level-3"',
        '<select class="govuk-select" id="agency" name="agency">',
        'type="checkbox" value="neglect"',
        'name="actions-1-owner"',
        'inputmode="numeric"',
    ):
        assert fragment in html, fragment
    conditional = html.split('id="conditional-consent_given-2"', 1)[1].split("</fieldset>", 1)[0]
    assert 'name="no_consent_reason"' in conditional
    assert " style=" not in html
    assert "<style" not in html
    assert " required" not in html
    assert "(optional)" not in html
    assert "govuk-error-summary" not in html


def test_answers_are_escaped(page_app: Flask) -> None:
    fields = build_fields(EXAMPLE, {"worker_name": '<script>alert("x")</script>'}, [], CHOICES)
    html = render(page_app, fields)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_error_summary_links_to_each_field(page_app: Flask) -> None:
    form = posted(
        visit_date__day="31",
        visit_date__month="2",
        visit_date__year="2024",
        consent_given="no",
        people_in_home="lots",
        actions__4__what="Call school",
    )
    data, errors = check_submission(EXAMPLE, form, CHOICES)
    fields = build_fields(EXAMPLE, data, errors, CHOICES)
    html = render(page_app, fields, errors)
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', html)
    assert links == [
        ("observed", "Enter what was observed"),
        ("visit_date-day", "Date of visit must be a real date"),
        ("no_consent_reason", "Enter reason consent was not given"),
        ("risk_level", "Select risk level"),
        ("people_in_home", "Number of people in the home must be a whole number"),
        ("actions-0-owner", "Action 1: Enter owner"),
    ]
    # what was typed is shown again, including the impossible date and the bad number
    assert 'id="visit_date-day" name="visit_date-day" type="text" value="31"' in html
    assert 'value="lots"' in html
    assert 'value="Call school"' in html
    assert "govuk-form-group--error" in html
    assert 'id="no_consent_reason-error"' in html


def test_error_summary_without_fields_links_to_field_names(page_app: Flask) -> None:
    errors = [FieldError("#/visit_date", "visit_date", "Enter date of visit")]
    with page_app.test_request_context("/"):
        html = render_template_string(
            '{% from "macros/form.html" import error_summary %}{{ error_summary(errors) }}',
            errors=errors,
        )
    assert '<a href="#visit_date">Enter date of visit</a>' in html
    assert 'data-module="govuk-error-summary"' in html


def test_error_on_repeated_question_links_to_its_first_input() -> None:
    errors = [FieldError("#/actions", "actions", "Add at least one action")]
    fields = build_fields(EXAMPLE, {}, errors, CHOICES)
    assert fields.anchors["actions"] == "actions-0-what"
    assert fields.anchors["actions-1-due"] == "actions-1-due-day"
    assert fields.anchors["no_consent_reason"] == "no_consent_reason"
    assert isinstance(fields, FieldList)


def test_repeat_error_and_hint_are_rendered(page_app: Flask) -> None:
    schema = dict(EXAMPLE)
    schema["properties"] = dict(EXAMPLE["properties"])
    schema["properties"]["actions"] = {
        **EXAMPLE["properties"]["actions"],
        "description": "Add each action agreed",
    }
    errors = [FieldError("#/actions", "actions", "Add at least one action")]
    html = render(page_app, build_fields(schema, {}, errors, CHOICES), errors)
    assert 'aria-describedby="actions-hint actions-error"' in html
    assert '<a href="#actions-0-what">Add at least one action</a>' in html


# --- parsing -------------------------------------------------------------------------------


def test_parse_coerces_every_shape() -> None:
    form = posted(
        observed="  Children were well  \r\nKitchen was clean ",
        summary="Line one\r\nLine two",
        worker_name=" Jo ",
        visit_date__day="5",
        visit_date__month="03",
        visit_date__year="2026",
        consent_given="yes",
        risk_level="high",
        escalate_to="dsl",
        agency="health",
        child_seen="c1",
        present=["m1", "m2", "m1"],
        concerns=["neglect", ""],
        people_in_home="1,2",
        hours="1.5",
        actions__0__what="Visit",
        actions__0__owner="SW",
        actions__0__due__day="1",
        actions__0__due__month="4",
        actions__0__due__year="2026",
    )
    data, errors = parse_submission(EXAMPLE, form)
    assert errors == []
    assert data == {
        "observed": "Children were well  \nKitchen was clean",
        "summary": "Line one\nLine two",
        "worker_name": "Jo",
        "visit_date": "2026-03-05",
        "consent_given": True,
        "risk_level": "high",
        "escalate_to": "dsl",
        "agency": "health",
        "child_seen": "c1",
        "present": ["m1", "m2"],
        "concerns": ["neglect"],
        "people_in_home": 12,
        "hours": 1.5,
        "actions": [{"what": "Visit", "owner": "SW", "due": "2026-04-01"}],
    }
    assert validate_form(EXAMPLE, data, dynamic_choices=CHOICES) == []


def test_blank_answers_are_left_out() -> None:
    data, errors = parse_submission(
        EXAMPLE, posted(observed="  ", visit_date__day="", consent_given="", concerns="")
    )
    assert data == {}
    assert errors == []


def test_plain_mapping_of_lists_is_accepted() -> None:
    form: dict[str, list[str]] = {"consent_given": ["no"], "concerns": ["neglect", "physical"]}
    data, _ = parse_submission(EXAMPLE, form)
    assert data == {"consent_given": False, "concerns": ["neglect", "physical"]}


def test_hidden_reveals_are_dropped() -> None:
    form = posted(
        consent_given="yes",
        no_consent_reason="Parent refused",
        risk_level="low",
        escalate_to="dsl",
    )
    data, _ = parse_submission(EXAMPLE, form)
    assert data == {"consent_given": True, "risk_level": "low"}
    data, _ = parse_submission(
        EXAMPLE, posted(consent_given="no", no_consent_reason="Parent refused")
    )
    assert data["no_consent_reason"] == "Parent refused"


def test_hidden_reveal_parse_errors_are_dropped() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "title": "T",
        "properties": {
            "seen": {"type": "boolean", "title": "Seen?"},
            "when": {
                "type": "string",
                "format": "date",
                "title": "Date seen",
                "x-reveal-when": {"property": "seen", "value": True},
            },
        },
    }
    form = posted(seen="no", when__day="99")
    assert parse_submission(schema, form) == ({"seen": False}, [])
    _, errors = parse_submission(schema, posted(seen="yes", when__day="99"))
    assert [e.field for e in errors] == ["when"]


def test_empty_rows_are_dropped_and_renumbered() -> None:
    form = posted(
        actions__0__what="",
        actions__0__owner=" ",
        actions__2__what="Refer",
        actions__2__owner="GP",
        actions__7__owner="Police",
    )
    data, errors = parse_submission(EXAMPLE, form)
    assert data["actions"] == [{"what": "Refer", "owner": "GP"}, {"owner": "Police"}]
    assert errors == []
    _, checked = check_submission(EXAMPLE, form, CHOICES)
    assert FieldError("#/actions/1/what", "actions-1-what", "Action 2: Enter what will happen") in (
        checked
    )


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2024", "Date of visit must be a real date"),
        ("1", "13", "2024", "Date of visit must be a real date"),
        ("1", "2", "24", "Date of visit must be a real date"),
        ("a", "2", "2024", "Date of visit must be a real date"),
        ("1", "", "2024", "Date of visit must include a month"),
        ("1", "", "", "Date of visit must include a month and year"),
    ],
)
def test_bad_dates_are_errors_and_kept_as_typed(
    day: str, month: str, year: str, message: str
) -> None:
    form = posted(visit_date__day=day, visit_date__month=month, visit_date__year=year)
    data, errors = parse_submission(EXAMPLE, form)
    assert errors == [FieldError("#/visit_date", "visit_date", message)]
    assert data["visit_date"] == {"day": day, "month": month, "year": year}
    date_field = by_name(build_fields(EXAMPLE, data, errors, CHOICES))["visit_date"]
    assert [item["value"] for item in date_field.params["items"]] == [day, month, year]
    assert all("govuk-input--error" in item["classes"] for item in date_field.params["items"])


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("people_in_home", "2.5", "Number of people in the home must be a whole number"),
        ("people_in_home", "three", "Number of people in the home must be a whole number"),
        ("hours", "1e3", "Hours spent must be a number"),
        ("hours", "nan", "Hours spent must be a number"),
        ("consent_given", "maybe", "Select whether consent was given"),
    ],
)
def test_bad_values_are_errors_and_never_echoed(name: str, raw: str, message: str) -> None:
    data, errors = parse_submission(EXAMPLE, posted(**{name: raw}))
    assert errors == [FieldError(f"#/{name}", name, message)]
    assert raw not in errors[0].message
    assert data[name] == raw


def test_row_parse_errors_use_the_renumbered_row() -> None:
    form = posted(actions__3__what="Visit", actions__3__due__day="40")
    _, errors = parse_submission(EXAMPLE, form)
    assert errors == [
        FieldError(
            "#/actions/0/due",
            "actions-0-due",
            "Action 1: Due date must include a month and year",
        )
    ]


def test_check_submission_prefers_parse_errors_and_keeps_display_order() -> None:
    form = posted(people_in_home="-", visit_date__day="1", consent_given="no")
    _, errors = check_submission(EXAMPLE, form, CHOICES)
    assert [(e.field, e.message) for e in errors] == [
        ("observed", "Enter what was observed"),
        ("visit_date", "Date of visit must include a month and year"),
        ("no_consent_reason", "Enter reason consent was not given"),
        ("risk_level", "Select risk level"),
        ("people_in_home", "Number of people in the home must be a whole number"),
    ]


def test_dynamic_choices_are_checked_when_supplied() -> None:
    form = posted(
        observed="x",
        visit_date__day="1",
        visit_date__month="1",
        visit_date__year="2026",
        consent_given="yes",
        risk_level="low",
        child_seen="someone-else",
        present=["m1", "m9"],
    )
    _, errors = check_submission(EXAMPLE, form, CHOICES)
    assert [(e.pointer, e.field, e.message) for e in errors] == [
        ("#/child_seen", "child_seen", "Select child seen"),
        ("#/present/1", "present", "Select who else was present"),
    ]
    _, unchecked = check_submission(EXAMPLE, form)
    assert unchecked == []


def test_round_trip_of_stored_answers_renders_them(page_app: Flask) -> None:
    stored: Mapping[str, Any] = {
        "visit_date": "2026-03-05",
        "consent_given": False,
        "no_consent_reason": "Not at home",
        "concerns": ["physical"],
        "people_in_home": 4,
        "hours": 2.0,
    }
    html = render(page_app, build_fields(EXAMPLE, stored, [], CHOICES))
    assert 'name="visit_date-day" type="text" value="5"' in html
    assert 'name="visit_date-month" type="text" value="3"' in html
    assert 'value="no" checked' in html
    assert "Not at home</textarea>" in html
    assert 'value="physical" checked' in html
    assert 'name="people_in_home" type="text" spellcheck="false" value="4"' in html
    assert 'name="hours" type="text" spellcheck="false" value="2"' in html
