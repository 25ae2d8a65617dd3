"""Render task forms (JSON Schema) as GOV.UK Frontend fields, and parse the answers posted back.

`build_fields` turns a checked form schema (see domain/forms.py) into `Field` objects that the
`render_form` macro in templates/macros/form.html passes to the govuk-frontend-jinja macros.
`parse_submission` turns the posted form back into typed answers, keeping what was typed when
it cannot be parsed, so the page can show it again with the error.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from domain.forms import (
    DEFAULT_ROWS,
    FieldError,
    choice_widget,
    date_parts_message,
    enum_choices,
    field_message,
    in_row,
    item_schema,
    property_kind,
    row_title,
    sort_errors,
    validate_form,
)

FormData = Mapping[str, list[str]] | MultiDict[str, str]
Choices = Mapping[str, Sequence[tuple[str, str]]]
MAX_ROWS = 50
_MISSING: Any = object()
_YES_NO = (("yes", "Yes"), ("no", "No"))
_DATE_PARTS = ("day", "month", "year")


@dataclass
class Field:
    """One question, ready for the `render_form` macro.

    `kind` names the govuk macro to call ("input", "textarea", "character-count", "date-input",
    "radios", "select", "checkboxes") or "repeat" for repeated fieldsets; `params` are that
    macro's parameters. `reveals` maps a radios value to the fields shown when it is selected.
    `anchor` is the id an error summary link should focus.
    """

    kind: str
    name: str
    params: dict[str, Any]
    anchor: str
    reveals: dict[str, list[Field]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


@dataclass
class Row:
    """One numbered fieldset ("Action 2") of a repeated-fieldset question."""

    legend: str
    fields: list[Field]


class FieldList(list[Field]):
    """The fields of one form, in display order."""

    @property
    def anchors(self) -> dict[str, str]:
        """Map every field name (including revealed and row fields) to its error-link target."""
        found: dict[str, str] = {}
        for item in _walk(self):
            found[item.name] = item.anchor
        return found


def _walk(fields: Sequence[Field]) -> Iterator[Field]:
    for item in fields:
        yield item
        for children in item.reveals.values():
            yield from _walk(children)
        for row in item.rows:
            yield from _walk(row.fields)


# --- building fields -----------------------------------------------------------------------


@dataclass
class _Context:
    messages: dict[str, str]
    choices: Choices
    in_row: bool = False


def build_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Sequence[FieldError],
    dynamic_choices: Choices | None = None,
) -> FieldList:
    """Build the fields of a form from its schema, the current answers and any errors.

    Raises:
        KeyError: a question uses `x-options-from` and `dynamic_choices` lacks that key.
    """
    messages: dict[str, str] = {}
    for error in errors:
        messages.setdefault(error.field, error.message)
    context = _Context(messages, dynamic_choices or {})
    properties: Mapping[str, Any] = schema["properties"]
    revealed: dict[str, list[str]] = {}
    for name, prop in properties.items():
        if "x-reveal-when" in prop:
            revealed.setdefault(prop["x-reveal-when"]["property"], []).append(name)
    fields = FieldList()
    for name, prop in properties.items():
        if "x-reveal-when" in prop:
            continue
        built = _build(name, prop, values.get(name), context)
        for child in revealed.get(name, []):
            key = _form_value(properties[child]["x-reveal-when"]["value"])
            child_field = _build(child, properties[child], values.get(child), context)
            built.reveals.setdefault(key, []).append(child_field)
        fields.append(built)
    return fields


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _build(name: str, prop: Mapping[str, Any], value: Any, context: _Context) -> Field:
    kind = property_kind(prop)
    if kind == "repeat":
        return _build_repeat(name, prop, value, context)
    common = _common(name, prop, context)
    if kind in ("text", "integer", "number"):
        params = {**common, "id": name, "label": _label(prop, context)}
        if value is not None:
            params["value"] = _text(value)
        if kind != "text":
            params.update(
                inputmode="numeric" if kind == "integer" else "decimal",
                spellcheck=False,
                classes="govuk-input--width-10",
            )
        return Field("input", name, params, anchor=name)
    if kind == "textarea":
        params = {**common, "id": name, "label": _label(prop, context)}
        if value is not None:
            params["value"] = _text(value)
        if "maxLength" in prop:
            params["maxlength"] = prop["maxLength"]
            return Field("character-count", name, params, anchor=name)
        return Field("textarea", name, params, anchor=name)
    if kind == "date":
        return _build_date(name, prop, value, common, context)
    if kind == "boolean":
        value = _form_value(value) if isinstance(value, bool) else value
        return _build_radios(name, prop, value, _YES_NO, common, context)
    choices = _choices(prop, context)
    if kind == "multichoice":
        chosen = {str(v) for v in value} if isinstance(value, list) else set()
        items = [{"value": v, "text": t, "checked": v in chosen} for v, t in choices]
        params = {**common, "idPrefix": name, "fieldset": _legend(prop, context), "items": items}
        return Field("checkboxes", name, params, anchor=name)
    if choice_widget(prop, len(choices)) == "radios":
        return _build_radios(name, prop, value, choices, common, context)
    current = "" if value is None else str(value)
    items = [{"value": "", "text": "Select an option"}]
    items += [{"value": v, "text": t, "selected": v == current} for v, t in choices]
    params = {**common, "id": name, "label": _label(prop, context), "items": items}
    return Field("select", name, params, anchor=name)


def _common(name: str, prop: Mapping[str, Any], context: _Context) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if prop.get("description"):
        params["hint"] = {"text": prop["description"]}
    if name in context.messages:
        params["errorMessage"] = {"text": context.messages[name]}
    return params


def _label(prop: Mapping[str, Any], context: _Context) -> dict[str, str]:
    classes = "" if context.in_row else "govuk-label--s"
    return {"text": str(prop.get("title", "")), "classes": classes}


def _legend(prop: Mapping[str, Any], context: _Context) -> dict[str, Any]:
    classes = "" if context.in_row else "govuk-fieldset__legend--s"
    return {"legend": {"text": str(prop.get("title", "")), "classes": classes}}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choices(prop: Mapping[str, Any], context: _Context) -> list[tuple[str, str]]:
    source = prop.get("x-options-from")
    if source is None:
        return enum_choices(prop)
    if source not in context.choices:
        raise KeyError(f"no choices supplied for x-options-from {source!r}")
    return [(str(v), str(t)) for v, t in context.choices[source]]


def _build_radios(
    name: str,
    prop: Mapping[str, Any],
    value: Any,
    choices: Sequence[tuple[str, str]],
    common: dict[str, Any],
    context: _Context,
) -> Field:
    current = None if value is None else str(value)
    items = [{"value": v, "text": t, "checked": v == current} for v, t in choices]
    params = {**common, "idPrefix": name, "fieldset": _legend(prop, context), "items": items}
    return Field("radios", name, params, anchor=name)


def _build_date(
    name: str, prop: Mapping[str, Any], value: Any, common: dict[str, Any], context: _Context
) -> Field:
    parts = _date_parts(value)
    error = " govuk-input--error" if "errorMessage" in common else ""
    widths = {"day": 2, "month": 2, "year": 4}
    items = [
        {"name": part, "value": parts[part], "classes": f"govuk-input--width-{widths[part]}{error}"}
        for part in _DATE_PARTS
    ]
    params = {**common, "id": name, "namePrefix": name, "items": items}
    params["fieldset"] = _legend(prop, context)
    return Field("date-input", name, params, anchor=f"{name}-day")


def _date_parts(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {part: str(value.get(part, "")) for part in _DATE_PARTS}
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime.date):
        return {"day": str(value.day), "month": str(value.month), "year": f"{value.year:04d}"}
    return dict.fromkeys(_DATE_PARTS, "")


def _build_repeat(name: str, prop: Mapping[str, Any], value: Any, context: _Context) -> Field:
    existing = [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []
    count = min(len(existing) + int(prop.get("x-rows", DEFAULT_ROWS)), MAX_ROWS)
    row_context = _Context(context.messages, context.choices, in_row=True)
    sub_properties: Mapping[str, Any] = item_schema(prop)["properties"]
    rows = []
    for index in range(count):
        answers = existing[index] if index < len(existing) else {}
        children = [
            _build(f"{name}-{index}-{sub}", sub_prop, answers.get(sub), row_context)
            for sub, sub_prop in sub_properties.items()
        ]
        rows.append(Row(f"{row_title(prop)} {index + 1}", children))
    params = _common(name, prop, context)
    params["legend"] = str(prop.get("title", ""))
    anchor = rows[0].fields[0].anchor if rows and rows[0].fields else name
    return Field("repeat", name, params, anchor=anchor, rows=rows)


# --- parsing answers -----------------------------------------------------------------------


def parse_submission(
    schema: Mapping[str, Any], form: FormData
) -> tuple[dict[str, Any], list[FieldError]]:
    """Turn a posted form into typed answers and the errors found while parsing it.

    Blank answers are left out, fully blank rows are dropped, and answers to revealed questions
    whose radios option is not selected are discarded. When an answer cannot be parsed (a bad
    date or number), the returned dict holds it as typed so the page can show it again: it is
    then only fit for redisplay, never for saving.
    """
    getlist = _getter(form)
    properties: Mapping[str, Any] = schema["properties"]
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, prop in properties.items():
        value, found = _parse(name, prop, getlist, f"#/{name}", str)
        if value is not _MISSING:
            data[name] = value
        errors.extend(found)
    for name, prop in properties.items():
        rule = prop.get("x-reveal-when")
        if rule is not None and not _same(data.get(rule["property"], _MISSING), rule["value"]):
            data.pop(name, None)
            errors = [e for e in errors if e.field != name]
    return data, sort_errors(schema, errors)


def check_submission(
    schema: Mapping[str, Any],
    form: FormData,
    dynamic_choices: Choices | None = None,
    today: datetime.date | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse a posted form and validate it (dates with an `x-date` rule against `today`, when
    given); parse errors win over validation errors."""
    data, errors = parse_submission(schema, form)
    checked = validate_form(schema, data, dynamic_choices=dynamic_choices, today=today)
    return data, sort_errors(schema, [*errors, *checked])


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and bool(left == right)


def _getter(form: FormData) -> Callable[[str], list[str]]:
    if isinstance(form, MultiDict):
        multi = form
        return lambda name: [str(v) for v in multi.getlist(name)]
    mapping = form
    return lambda name: [str(v) for v in mapping.get(name, [])]


def _first(values: list[str]) -> str:
    return values[0].strip() if values else ""


def _parse(
    name: str,
    prop: Mapping[str, Any],
    getlist: Callable[[str], list[str]],
    pointer: str,
    wrap: Callable[[str], str],
) -> tuple[Any, list[FieldError]]:
    kind = property_kind(prop)
    if kind == "repeat":
        return _parse_rows(name, prop, getlist, pointer)
    if kind == "multichoice":
        chosen = list(dict.fromkeys(v.strip() for v in getlist(name) if v.strip()))
        return (chosen or _MISSING), []
    if kind == "date":
        return _parse_date(name, prop, getlist, pointer, wrap)
    raw = _first(getlist(name))
    if not raw:
        return _MISSING, []
    if kind == "textarea":
        return raw.replace("\r\n", "\n").replace("\r", "\n"), []
    parsed: Any = raw
    if kind == "boolean":
        parsed = {"yes": True, "no": False}.get(raw, _MISSING)
    elif kind in ("integer", "number"):
        parsed = _parse_number(raw, integer=kind == "integer")
    if parsed is _MISSING:
        return raw, [FieldError(pointer, name, wrap(field_message(prop, "type")))]
    return parsed, []


_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DECIMAL = re.compile(r"[+-]?(\d{1,18}(\.\d{0,12})?|\.\d{1,12})")


def _parse_number(raw: str, *, integer: bool) -> Any:
    text = raw.replace(",", "").replace(" ", "")
    if _INTEGER.fullmatch(text):
        return int(text)
    if not integer and _DECIMAL.fullmatch(text):
        return float(text)
    return _MISSING


def _parse_date(
    name: str,
    prop: Mapping[str, Any],
    getlist: Callable[[str], list[str]],
    pointer: str,
    wrap: Callable[[str], str],
) -> tuple[Any, list[FieldError]]:
    parts = {part: _first(getlist(f"{name}-{part}")) for part in _DATE_PARTS}
    if not any(parts.values()):
        return _MISSING, []
    missing = [part for part in _DATE_PARTS if not parts[part]]
    if missing:
        message = date_parts_message(prop, missing)
        return parts, [FieldError(pointer, name, wrap(message))]
    try:
        if not all(p.isdigit() for p in parts.values()) or len(parts["year"]) != 4:
            raise ValueError
        value = datetime.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (ValueError, OverflowError):  # not a calendar date, or a part beyond a C integer
        return parts, [FieldError(pointer, name, wrap(field_message(prop, "format")))]
    return value.isoformat(), []


def _parse_rows(
    name: str, prop: Mapping[str, Any], getlist: Callable[[str], list[str]], pointer: str
) -> tuple[Any, list[FieldError]]:
    # getlist cannot list keys, so look for row numbers by trying each index up to MAX_ROWS.
    sub_properties: Mapping[str, Any] = item_schema(prop)["properties"]
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for index in range(MAX_ROWS):
        probe, _ = _parse_row(name, prop, sub_properties, getlist, pointer, index, index)
        if not probe:
            continue
        row, found = _parse_row(name, prop, sub_properties, getlist, pointer, index, len(rows))
        rows.append(row)
        errors.extend(found)
    return (rows or _MISSING), errors


def _parse_row(
    name: str,
    prop: Mapping[str, Any],
    sub_properties: Mapping[str, Any],
    getlist: Callable[[str], list[str]],
    pointer: str,
    index: int,
    position: int,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse row `index` of the posted form as row `position` of the answers."""
    row: dict[str, Any] = {}
    errors: list[FieldError] = []
    for sub, sub_prop in sub_properties.items():
        value, found = _parse(
            f"{name}-{index}-{sub}",
            sub_prop,
            getlist,
            f"{pointer}/{position}/{sub}",
            lambda message: in_row(message, prop, position),
        )
        if value is not _MISSING:
            row[sub] = value
        errors.extend(FieldError(e.pointer, f"{name}-{position}-{sub}", e.message) for e in found)
    return row, errors
