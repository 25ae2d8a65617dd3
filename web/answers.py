"""Recorded answers as people read them: each question's title and its answer in words.

The form's own schema turns stored values back into what the practitioner chose: an option's
label, "Yes" or "No", a date written out, an agency's or family member's name, each row of a
repeated fieldset. Answers to questions a form no longer has (or a task without a form) are
shown under their field name, so nothing recorded is hidden.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.forms import enum_choices, item_schema, property_kind, row_title
from domain.reports.records import CaseRecord, CaseRecords
from web.dates import uk_short_date

Labels = Mapping[str, Sequence[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One row of a repeated fieldset ("Action 2") and its answers."""

    title: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One question and its answer: text (which may hold line breaks) or fieldset rows."""

    question: str
    text: str = ""
    rows: tuple[AnswerRow, ...] = ()


def recorded(case: CaseRecords) -> list[tuple[CaseRecord, list[Answer]]]:
    """Pair each record that holds any answer with its answers, oldest first."""
    pairs = [
        (record, answers_of(record.schema, record.answers, case.choices)) for record in case.records
    ]
    return [(record, answers) for record, answers in pairs if answers]


def answers_of(
    schema: Mapping[str, Any] | None, data: Mapping[str, Any], labels: Labels
) -> list[Answer]:
    """Return the answered questions of one record in the form's order, then any others."""
    properties: Mapping[str, Any] = (schema or {}).get("properties") or {}
    found = [
        answer
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and _answered(data.get(name))
        for answer in [_answer(prop, data[name], labels, name)]
    ]
    found += [
        Answer(_field_title(name), _raw(value))
        for name, value in data.items()
        if name not in properties and _answered(value)
    ]
    return found


def _answered(value: Any) -> bool:
    if value is None or value == [] or value == {}:
        return False
    return not (isinstance(value, str) and not value.strip())


def _answer(prop: Mapping[str, Any], value: Any, labels: Labels, name: str) -> Answer:
    question = str(prop.get("title") or _field_title(name))
    if property_kind(prop) == "repeat" and isinstance(value, list):
        sub_properties: Mapping[str, Any] = item_schema(prop).get("properties") or {}
        rows = tuple(
            AnswerRow(
                f"{row_title(prop)} {index}",
                tuple(answers_of({"properties": sub_properties}, row, labels)),
            )
            for index, row in enumerate(value, start=1)
            if isinstance(row, Mapping) and any(_answered(v) for v in row.values())
        )
        return Answer(question, rows=rows)
    return Answer(question, _text(prop, value, labels))


def _text(prop: Mapping[str, Any], value: Any, labels: Labels) -> str:
    kind = property_kind(prop)
    if kind == "boolean" and isinstance(value, bool):
        return "Yes" if value else "No"
    if kind in ("choice", "multichoice"):
        options = dict(_options(prop, labels))
        values = value if isinstance(value, list) else [value]
        return "\n".join(options.get(str(v), _raw(v)) for v in values)
    if kind == "date" and isinstance(value, str):
        try:
            return uk_short_date(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    return _raw(value)


def _options(prop: Mapping[str, Any], labels: Labels) -> Sequence[tuple[str, str]]:
    items = prop.get("items") if prop.get("type") == "array" else None
    source = prop.get("x-options-from") or (
        items.get("x-options-from") if isinstance(items, Mapping) else None
    )
    if isinstance(source, str):
        return [(str(v), str(t)) for v, t in labels.get(source, ())]
    return enum_choices(prop)


def _raw(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _field_title(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name
