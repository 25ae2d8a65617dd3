"""Form schemas: loading, checking the supported subset, and validating answers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from domain.forms import (
    FieldError,
    FormSchemaError,
    check_form_schema,
    field_message,
    load_form_schema,
    validate_form,
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Strategy discussion",
    "type": "object",
    "properties": {
        "observed": {"type": "string", "title": "What was observed?", "x-widget": "textarea"},
        "meeting_date": {"type": "string", "format": "date", "title": "Meeting date"},
        "consent": {
            "type": "boolean",
            "title": "Was consent given?",
            "x-error-messages": {"required": "Select whether consent was given"},
        },
        "reason": {
            "type": "string",
            "title": "Reason",
            "maxLength": 200,
            "x-reveal-when": {"property": "consent", "value": False},
        },
        "outcome": {
            "type": "string",
            "title": "Outcome",
            "enum": ["nfa", "s47", "cin"],
            "x-enum-labels": ["No further action", "Section 47 enquiry", "Child in need"],
        },
        "attendees": {
            "type": "array",
            "title": "Which agencies attended?",
            "items": {"type": "string", "enum": ["police", "health", "school"]},
            "minItems": 1,
        },
        "children": {"type": "integer", "title": "Number of children", "minimum": 1},
        "lead": {"type": "string", "title": "Lead professional", "x-options-from": "staff"},
        "actions": {
            "type": "array",
            "title": "Actions",
            "items": {
                "type": "object",
                "title": "Action",
                "properties": {
                    "what": {"type": "string", "title": "What will happen", "maxLength": 300},
                    "owner": {"type": "string", "title": "Owner"},
                    "due": {"type": "string", "format": "date", "title": "Due date"},
                },
                "required": ["what", "owner"],
            },
        },
    },
    "required": ["observed", "meeting_date", "consent", "outcome"],
    "allOf": [
        {
            "if": {"properties": {"consent": {"const": False}}, "required": ["consent"]},
            "then": {"required": ["reason"]},
        }
    ],
}

VALID: dict[str, Any] = {
    "observed": "Both children seen",
    "meeting_date": "2026-03-05",
    "consent": True,
    "outcome": "s47",
    "attendees": ["police", "health"],
    "children": 2,
    "lead": "u42",
    "actions": [{"what": "Medical", "owner": "Health", "due": "2026-03-10"}],
}


def errors_of(data: dict[str, Any], **kwargs: Any) -> list[tuple[str, str, str]]:
    return [(e.pointer, e.field, e.message) for e in validate_form(SCHEMA, data, **kwargs)]


# --- FieldError ----------------------------------------------------------------------------


def test_field_error_is_frozen() -> None:
    error = FieldError("#/observed", "observed", "Enter what was observed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.message = "x"  # type: ignore[misc]


# --- loading -------------------------------------------------------------------------------


def test_load_form_schema_reads_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "strategy.schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    assert load_form_schema(path) == SCHEMA
    assert load_form_schema(str(path)) == SCHEMA


def test_load_form_schema_rejects_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.schema.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(FormSchemaError) as caught:
        load_form_schema(path)
    assert caught.value.source == "broken.schema.json"
    assert "cannot be read as JSON" in caught.value.problems[0]


def test_load_form_schema_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.schema.json"
    bad = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "oneOf": [{"required": ["a"]}],
    }
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(FormSchemaError) as caught:
        load_form_schema(path)
    problems = caught.value.problems
    assert "The form must have a 'title'" in problems
    assert "Question 'a' must have a 'title' (its label)" in problems
    assert "The form uses 'oneOf', which is not supported" in problems
    assert str(caught.value).startswith("bad.schema.json: ")


# --- checking ------------------------------------------------------------------------------


def test_the_example_schema_is_supported() -> None:
    assert check_form_schema(SCHEMA) == []


def with_property(name: str, prop: Any, **top: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "title": "T",
        "properties": {
            "choice": {"type": "string", "title": "Choice", "enum": ["a", "b"]},
            "flag": {"type": "boolean", "title": "Flag"},
            name: prop,
        },
        **top,
    }


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ([], "The form must be a JSON object"),
        ({"type": "object", "title": "T"}, "The form must list its questions under 'properties'"),
        (
            {
                "type": "object",
                "title": "T",
                "properties": {"a": {"type": "string", "minLength": -1}},
            },
            "Not valid JSON Schema at #/properties/a/minLength",
        ),
        (
            {"$schema": "http://json-schema.org/draft-07/schema#", **with_property("a", {})},
            "'$schema' must be https://json-schema.org/draft/2020-12/schema",
        ),
        (
            {**with_property("x", {"type": "string", "title": "X"}), "type": "array"},
            '"type": "object"',
        ),
        (with_property("bad-name", {"type": "string", "title": "X"}), "names must start"),
        (with_property("x", {"type": "object", "title": "X"}), "'type' must be one of"),
        (with_property("x", {"type": ["string", "null"], "title": "X"}), "'type' must be one of"),
        (with_property("x", {"type": "string"}), "Question 'x' must have a 'title'"),
        (
            with_property("x", {"type": "string", "title": "X", "default": "a"}),
            "Question 'x' uses 'default', which is not supported here",
        ),
        (
            with_property("x", {"type": "string", "title": "X", "format": "textarea"}),
            'only "format": "date" is supported (for a long answer use "x-widget": "textarea")',
        ),
        (
            with_property("x", {"type": "string", "title": "X", "format": "email"}),
            'only "format": "date" is supported',
        ),
        (
            with_property("x", {"type": "string", "title": "X", "x-widget": "radios"}),
            "'x-widget' must be textarea",
        ),
        (
            with_property("x", {"type": "string", "title": "X", "enum": ["a"], "x-widget": "box"}),
            "'x-widget' must be radios or select",
        ),
        (
            with_property("x", {"type": "string", "title": "X", "enum": ["a", 1]}),
            "'enum' must list non-empty strings",
        ),
        (
            with_property(
                "x", {"type": "string", "title": "X", "enum": ["a"], "x-enum-labels": []}
            ),
            "one label for each value",
        ),
        (
            with_property(
                "x", {"type": "string", "title": "X", "enum": ["a"], "x-options-from": "staff"}
            ),
            "use either 'enum' or 'x-options-from'",
        ),
        (
            with_property(
                "x", {"type": "string", "title": "X", "x-error-messages": {"bogus": "m"}}
            ),
            "'x-error-messages' has 'bogus'",
        ),
        (
            with_property("x", {"type": "array", "title": "X", "items": {"type": "string"}}),
            "'items' needs an 'enum'",
        ),
        (
            with_property("x", {"type": "array", "title": "X", "items": {"type": "integer"}}),
            "'items' must be a string enum",
        ),
        (
            with_property(
                "x",
                {
                    "type": "array",
                    "title": "X",
                    "items": {
                        "type": "object",
                        "properties": {"a": {"type": "string", "title": "A"}},
                    },
                },
            ),
            "'items' must have a 'title' naming one row",
        ),
        (
            with_property(
                "x",
                {
                    "type": "array",
                    "title": "X",
                    "x-rows": 0,
                    "items": {
                        "type": "object",
                        "title": "Row",
                        "properties": {"a": {"type": "string", "title": "A"}},
                    },
                },
            ),
            "'x-rows' must be a whole number from 1 to 20",
        ),
        (
            with_property(
                "x",
                {
                    "type": "array",
                    "title": "X",
                    "items": {
                        "type": "object",
                        "title": "Row",
                        "properties": {
                            "inner": {
                                "type": "array",
                                "title": "Inner",
                                "items": {
                                    "type": "object",
                                    "title": "I",
                                    "properties": {"a": {"type": "string", "title": "A"}},
                                },
                            }
                        },
                    },
                },
            ),
            "repeated rows cannot be nested",
        ),
        (
            with_property(
                "x",
                {
                    "type": "string",
                    "title": "X",
                    "x-reveal-when": {"property": "nope", "value": "a"},
                },
            ),
            "names 'nope', which is not a question here",
        ),
        (
            with_property(
                "x",
                {
                    "type": "string",
                    "title": "X",
                    "x-reveal-when": {"property": "choice", "value": "z"},
                },
            ),
            "'x-reveal-when' value is not one of the answers",
        ),
        (
            with_property(
                "x",
                {
                    "type": "string",
                    "title": "X",
                    "x-reveal-when": {"property": "flag", "value": "yes"},
                },
            ),
            "'x-reveal-when' value must be true or false",
        ),
        (
            with_property(
                "x", {"type": "string", "title": "X", "x-reveal-when": {"property": "flag"}}
            ),
            "'x-reveal-when' must be",
        ),
        (
            with_property(
                "x",
                {
                    "type": "string",
                    "title": "X",
                    "x-reveal-when": {"property": "flag", "value": True},
                },
                required=["x"],
            ),
            "'x' is only shown for one answer, so it cannot be always required",
        ),
        (with_property("x", {"type": "string", "title": "X"}, required=["y"]), "requires 'y'"),
        (
            with_property(
                "x",
                {"type": "string", "title": "X"},
                allOf=[
                    {"if": {"properties": {"flag": {"const": True}}}, "then": {"required": ["x"]}}
                ],
            ),
            "'if' tests 'flag' but does not list it in its 'required'",
        ),
        (
            with_property(
                "x",
                {"type": "string", "title": "X"},
                allOf=[{"anyOf": [{"required": ["x"]}]}],
            ),
            "uses 'anyOf', which is not supported (use allOf with if/then)",
        ),
        (
            with_property(
                "x",
                {"type": "string", "title": "X"},
                allOf=[{"then": {"required": ["missing"]}}],
            ),
            "refers to 'missing', which is not one of the questions",
        ),
    ],
)
def test_unsupported_schemas_are_explained(schema: Any, problem: str) -> None:
    problems = check_form_schema(schema)
    assert any(problem in p for p in problems), problems


def test_reveal_needs_a_radios_question() -> None:
    schema = with_property(
        "x", {"type": "string", "title": "X", "x-reveal-when": {"property": "many", "value": "a"}}
    )
    schema["properties"]["many"] = {
        "type": "string",
        "title": "Many",
        "enum": ["a", "b", "c", "d", "e", "f", "g"],
    }
    problems = check_form_schema(schema)
    assert any("only be revealed by a yes/no or radios question" in p for p in problems)


# --- validating ----------------------------------------------------------------------------


def test_valid_answers_have_no_errors() -> None:
    assert validate_form(SCHEMA, VALID) == []


def test_required_messages_are_written_for_practitioners() -> None:
    assert errors_of({}) == [
        ("#/observed", "observed", "Enter what was observed"),
        ("#/meeting_date", "meeting_date", "Enter meeting date"),
        ("#/consent", "consent", "Select whether consent was given"),
        ("#/outcome", "outcome", "Select outcome"),
    ]


def test_blank_strings_and_none_count_as_unanswered() -> None:
    data = {**VALID, "observed": "   ", "meeting_date": "", "lead": None}
    assert errors_of(data) == [
        ("#/observed", "observed", "Enter what was observed"),
        ("#/meeting_date", "meeting_date", "Enter meeting date"),
    ]


def test_conditional_requirement_sits_after_its_radios() -> None:
    data = {**VALID, "consent": False}
    assert errors_of(data) == [("#/reason", "reason", "Enter reason")]
    assert errors_of({**data, "reason": "Parent declined"}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"meeting_date": "2026-02-30"},
            ("#/meeting_date", "meeting_date", "Meeting date must be a real date"),
        ),
        (
            {"meeting_date": "5 March"},
            ("#/meeting_date", "meeting_date", "Meeting date must be a real date"),
        ),
        ({"children": 0}, ("#/children", "children", "Number of children must be 1 or more")),
        (
            {"children": 1.5},
            ("#/children", "children", "Number of children must be a whole number"),
        ),
        ({"outcome": "maybe"}, ("#/outcome", "outcome", "Select outcome")),
        ({"consent": "yes"}, ("#/consent", "consent", "Select whether consent was given")),
        ({"attendees": []}, ("#/attendees", "attendees", "Select which agencies attended")),
        (
            {"attendees": ["police", "army"]},
            ("#/attendees/1", "attendees", "Select which agencies attended"),
        ),
        (
            {"observed": 42},
            ("#/observed", "observed", 'The answer to "What was observed?" must be text'),
        ),
        (
            {"consent": False, "reason": "x" * 201},
            ("#/reason", "reason", "Reason must be 200 characters or fewer"),
        ),
        ({"lead": 7}, ("#/lead", "lead", "Select lead professional")),
    ],
)
def test_value_errors(change: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert errors_of({**VALID, **change}) == [expected]


def test_rows_are_reported_by_row_and_field() -> None:
    data = {
        **VALID,
        "actions": [
            {"what": "Medical", "owner": "Health"},
            {"what": "x" * 301, "due": "2026-13-01"},
        ],
    }
    assert errors_of(data) == [
        (
            "#/actions/1/what",
            "actions-1-what",
            "Action 2: What will happen must be 300 characters or fewer",
        ),
        ("#/actions/1/owner", "actions-1-owner", "Action 2: Enter owner"),
        ("#/actions/1/due", "actions-1-due", "Action 2: Due date must be a real date"),
    ]


def test_a_row_that_is_not_an_object() -> None:
    assert errors_of({**VALID, "actions": ["oops"]}) == [
        ("#/actions/0", "actions", "Action 1: this row could not be read"),
    ]


def test_unknown_answers_are_rejected_by_name() -> None:
    data = {**VALID, "zzz": "x", "actions": [{"what": "a", "owner": "b", "extra": 1}]}
    assert errors_of(data) == [
        ("#/actions/0/extra", "actions-0-extra", "'extra' is not a question on this form"),
        ("#/zzz", "zzz", "'zzz' is not a question on this form"),
    ]


def test_unknown_answers_with_odd_names_are_not_echoed() -> None:
    errors = validate_form(SCHEMA, {**VALID, "<b>Jane Smith/1</b>": "x"})
    assert [(e.pointer, e.message) for e in errors] == [
        ("#/<b>Jane Smith~11<~1b>", "An answer was sent for a question that is not on this form")
    ]


def test_schema_may_allow_extra_answers() -> None:
    relaxed = {**SCHEMA, "additionalProperties": True}
    assert validate_form(relaxed, {**VALID, "zzz": 1}) == []


def test_dynamic_choices_are_only_type_checked_unless_given() -> None:
    assert errors_of({**VALID, "lead": "anyone"}) == []
    staff = {"staff": [("u42", "A worker")]}
    assert errors_of({**VALID, "lead": "u1"}, dynamic_choices=staff) == [
        ("#/lead", "lead", "Select lead professional")
    ]
    assert errors_of(VALID, dynamic_choices=staff) == []


def test_the_same_form_follows_its_current_choices() -> None:
    # validators are reused per form and per set of choices: a new option counts at once
    before = {"staff": [("u42", "A worker")]}
    after = {"staff": [("u42", "A worker"), ("u43", "A new worker")]}
    answer = {**VALID, "lead": "u43"}
    assert errors_of(answer, dynamic_choices=before) == [
        ("#/lead", "lead", "Select lead professional")
    ]
    assert errors_of(answer, dynamic_choices=after) == []
    assert errors_of(answer, dynamic_choices=before) != []
    assert errors_of(answer) == []


def test_a_changed_form_is_not_validated_with_its_old_rules() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    assert validate_form(schema, {**VALID, "zzz": 1}) != []
    relaxed = {**schema, "additionalProperties": True}  # a new schema object, same shape
    assert validate_form(relaxed, {**VALID, "zzz": 1}) == []


def test_dependent_required_names_the_missing_field() -> None:
    schema = {
        **SCHEMA,
        "dependentRequired": {"children": ["lead"]},
    }
    assert check_form_schema(schema) == []
    data = {k: v for k, v in VALID.items() if k != "lead"}
    assert [(e.field, e.message) for e in validate_form(schema, data)] == [
        ("lead", "Select lead professional")
    ]


def test_messages_never_echo_submitted_values() -> None:
    secret = "Jane Smith 01/02/2015"
    data: dict[str, Any] = {
        "observed": 1,
        "meeting_date": secret,
        "consent": secret,
        "reason": secret,
        "outcome": secret,
        "attendees": [secret],
        "children": secret,
        "lead": 3,
        "actions": [{"what": secret * 20, "owner": 5, "due": secret}],
    }
    errors = validate_form(SCHEMA, data)
    assert len(errors) >= 8
    for error in errors:
        assert "Jane" not in error.message
        assert "Jane" not in error.pointer


def test_custom_messages_override_defaults() -> None:
    prop = {
        "type": "integer",
        "title": "Children",
        "minimum": 1,
        "x-error-messages": {"minimum": "Enter at least one child"},
    }
    assert field_message(prop, "minimum", 1) == "Enter at least one child"
    assert field_message(prop, "type") == "Children must be a whole number"


@pytest.mark.parametrize(
    ("prop", "keyword", "limit", "message"),
    [
        ({"type": "string", "title": "GP name"}, "required", None, "Enter GP name"),
        ({"type": "string", "title": "Full name"}, "minLength", 1, "Enter full name"),
        (
            {"type": "string", "title": "Code"},
            "pattern",
            "^[A-Z]+$",
            "Enter code in the correct format",
        ),
        ({"type": "string", "title": "Ref"}, "minLength", 3, "Ref must be 3 characters or more"),
        ({"type": "number", "title": "Hours"}, "exclusiveMinimum", 0, "Hours must be more than 0"),
        ({"type": "number", "title": "Hours"}, "maximum", 7.5, "Hours must be 7.5 or less"),
        (
            {"type": "number", "title": "Hours"},
            "multipleOf",
            0.5,
            "Hours must be a multiple of 0.5",
        ),
        (
            {"type": "number", "title": "Hours"},
            "exclusiveMaximum",
            24.0,
            "Hours must be less than 24",
        ),
        (
            {"type": "boolean", "title": "Seen alone?"},
            "required",
            None,
            'Select an answer for "Seen alone?"',
        ),
        (
            {"type": "array", "title": "Areas", "items": {"type": "string", "enum": ["a"]}},
            "maxItems",
            2,
            "Select no more than 2 options",
        ),
        (
            {"type": "array", "title": "Areas", "items": {"type": "string", "enum": ["a"]}},
            "uniqueItems",
            True,
            "Areas must not contain the same answer twice",
        ),
        (
            {
                "type": "array",
                "title": "Actions",
                "items": {"type": "object", "title": "Action", "properties": {}},
            },
            "minItems",
            1,
            "Add at least one action",
        ),
        (
            {
                "type": "array",
                "title": "Actions",
                "items": {"type": "object", "title": "Action", "properties": {}},
            },
            "maxItems",
            5,
            "Actions must have no more than 5 entries",
        ),
    ],
)
def test_default_messages(prop: dict[str, Any], keyword: str, limit: Any, message: str) -> None:
    assert field_message(prop, keyword, limit) == message


def test_questions_with_the_verb_first_are_quoted_not_garbled() -> None:
    from domain.forms import field_message

    text = {"type": "string", "title": "Why can your agency not attend?"}
    choice = {"type": "string", "enum": ["a", "b"], "title": "What do you recommend?"}
    assert field_message(text, "required") == 'Answer "Why can your agency not attend?"'
    assert field_message(choice, "required") == 'Select an answer for "What do you recommend?"'
    assert field_message({"type": "string", "title": "What was observed?"}, "required") == (
        "Enter what was observed"
    )


DATED: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Meeting",
    "type": "object",
    "properties": {
        "meeting_on": {
            "type": "string",
            "title": "Date of the meeting",
            "format": "date",
            "x-date": "not-past",
        },
        "seen_on": {
            "type": "string",
            "title": "When was the child seen?",
            "format": "date",
            "x-date": "not-future",
        },
        "actions": {
            "type": "array",
            "title": "Actions",
            "items": {
                "type": "object",
                "title": "Action",
                "properties": {
                    "due": {
                        "type": "string",
                        "title": "Due date",
                        "format": "date",
                        "x-date": "not-past",
                    }
                },
            },
        },
    },
}


def test_planned_dates_may_not_be_past_and_what_happened_not_future() -> None:
    from datetime import date

    assert check_form_schema(DATED) == []
    today = date(2026, 12, 21)
    fine = {"meeting_on": "2026-12-21", "seen_on": "2026-12-21", "actions": [{"due": "2027-01-04"}]}
    assert validate_form(DATED, fine, today=today) == []
    wrong = {
        "meeting_on": "2026-12-20",
        "seen_on": "2026-12-22",
        "actions": [{"due": "2020-01-01"}],
    }
    assert [(e.pointer, e.message) for e in validate_form(DATED, wrong, today=today)] == [
        ("#/meeting_on", "Date of the meeting must be today or in the future"),
        ("#/seen_on", 'The answer to "When was the child seen?" must be today or in the past'),
        ("#/actions/0/due", "Action 1: Due date must be today or in the future"),
    ]
    assert validate_form(DATED, wrong) == []  # no day given: nothing to compare with
    not_a_date = {"meeting_on": "2026-02-30"}
    assert [e.message for e in validate_form(DATED, not_a_date, today=today)] == [
        "Date of the meeting must be a real date"
    ]
    custom = copy_with(DATED, "meeting_on", {"x-error-messages": {"x-date": "Pick a future day"}})
    assert [
        e.message for e in validate_form(custom, {"meeting_on": "2020-01-01"}, today=today)
    ] == ["Pick a future day"]


def copy_with(schema: dict[str, Any], name: str, extra: dict[str, Any]) -> dict[str, Any]:
    properties = {**schema["properties"], name: {**schema["properties"][name], **extra}}
    return {**schema, "properties": properties}


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "string", "title": "When?", "x-date": "not-past"},  # not a date question
        {"type": "string", "title": "When?", "format": "date", "x-date": "soon"},
        {"type": "string", "title": "When?", "format": "date", "x-date": True},
    ],
)
def test_a_date_rule_must_be_known_and_on_a_date(prop: dict[str, Any]) -> None:
    problems = check_form_schema(
        {**DATED, "properties": {**DATED["properties"], "meeting_on": prop}}
    )
    assert any("'x-date' must be" in p for p in problems), problems
