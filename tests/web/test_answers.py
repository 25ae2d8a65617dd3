"""Recorded answers in words: labels, yes and no, dates, names, rows, and nothing hidden."""

from __future__ import annotations

from typing import Any

from web.answers import Answer, AnswerRow, answers_of

SCHEMA: dict[str, Any] = {
    "properties": {
        "level": {
            "type": "string",
            "title": "Level of need",
            "enum": ["2", "3"],
            "x-enum-labels": ["Emerging needs", "Complex needs"],
        },
        "seen": {"type": "boolean", "title": "Was the child seen?"},
        "seen_on": {"type": "string", "format": "date", "title": "When?"},
        "count": {"type": "number", "title": "How many visits?"},
        "needs": {
            "type": "array",
            "title": "Needs",
            "items": {"type": "string", "enum": ["housing", "health"]},
            "x-enum-labels": ["Housing", "Health"],
        },
        "lead": {"type": "string", "title": "Lead agency", "x-options-from": "agencies"},
        "notes": {"type": "string", "title": "Notes", "x-widget": "textarea"},
        "actions": {
            "type": "array",
            "title": "Actions",
            "items": {
                "type": "object",
                "title": "Action",
                "properties": {
                    "what": {"type": "string", "title": "What?"},
                    "owner": {"type": "string", "title": "Owner", "x-options-from": "agencies"},
                },
            },
        },
    }
}
LABELS = {"agencies": [("csc", "Children's Services")]}


def test_each_answer_reads_as_the_practitioner_chose_it_in_the_forms_order() -> None:
    data = {
        "notes": "line one\nline two",
        "count": 3.0,
        "seen_on": "2026-12-30",
        "seen": False,
        "level": "3",
        "needs": ["health", "housing"],
        "lead": "csc",
    }

    assert answers_of(SCHEMA, data, LABELS) == [
        Answer("Level of need", "Complex needs"),
        Answer("Was the child seen?", "No"),
        Answer("When?", "30 December 2026"),
        Answer("How many visits?", "3"),
        Answer("Needs", "Health\nHousing"),
        Answer("Lead agency", "Children's Services"),
        Answer("Notes", "line one\nline two"),
    ]


def test_rows_are_numbered_and_empty_rows_and_blank_answers_left_out() -> None:
    data = {
        "notes": "   ",
        "needs": [],
        "lead": None,
        "actions": [
            {"what": "Visit", "owner": "csc"},
            {"what": "", "owner": None},
            {"what": "Call"},
        ],
    }

    assert answers_of(SCHEMA, data, LABELS) == [
        Answer(
            "Actions",
            rows=(
                AnswerRow(
                    "Action 1", (Answer("What?", "Visit"), Answer("Owner", "Children's Services"))
                ),
                AnswerRow("Action 3", (Answer("What?", "Call"),)),
            ),
        )
    ]


def test_nothing_recorded_is_hidden_when_the_form_does_not_know_it() -> None:
    data = {
        "level": "9",  # an option the form no longer offers
        "lead": "gone",  # an agency no longer listed
        "seen_on": "not a date",
        "api_note": "sent through the API",
        "extra": {"a": [1, "ü"]},
        "flag": True,
    }

    assert answers_of(SCHEMA, data, LABELS) == [
        Answer("Level of need", "9"),
        Answer("When?", "not a date"),
        Answer("Lead agency", "gone"),
        Answer("Api note", "sent through the API"),
        Answer("Extra", '{"a": [1, "ü"]}'),
        Answer("Flag", "Yes"),
    ]
    assert answers_of(None, {"observed": "bruise"}, {}) == [Answer("Observed", "bruise")]
