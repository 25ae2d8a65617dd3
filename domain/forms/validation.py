"""Validate submitted form data against its schema, with messages for practitioners."""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from jsonschema import (  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
    Draft202012Validator,
    ValidationError,
)

from domain.forms.schema import (
    _FORMATS,
    FieldError,
    _where,
    field_message,
    in_row,
    item_schema,
    property_kind,
)


def validate_form(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    dynamic_choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    today: date | None = None,
) -> list[FieldError]:
    """Validate answers against a checked form schema; return errors in display order.

    Blank strings and None count as unanswered. Questions with `x-options-from` are checked for
    type only, unless `dynamic_choices` supplies the allowed (value, label) pairs. Dates with
    an `x-date` rule are checked against `today`, when it is given.
    """
    validator = _validator(schema, dynamic_choices or {})
    found: list[FieldError] = []
    ranks: dict[FieldError, int] = {}
    answers = _drop_blanks(data)
    for error in validator.iter_errors(answers):
        for field_error in _field_errors(schema, error):
            found.append(field_error)
            ranks[field_error] = _RANK.get(str(error.validator), len(_RANK))
    if today is not None:
        for path, rule in _dates_out_of_bounds(schema, answers, today):
            field_error = _error_at(schema, path, "x-date", rule)
            found.append(field_error)
            ranks[field_error] = len(_RANK)
    found.sort(key=lambda e: ranks[e])
    return sort_errors(schema, found)


_RANK = {"required": 0, "type": 1, "enum": 2, "const": 2, "format": 3}


def sort_errors(schema: Mapping[str, Any], errors: Iterable[FieldError]) -> list[FieldError]:
    """Keep the first error for each field and order them as the questions appear."""
    first: dict[str, FieldError] = {}
    for error in errors:
        first.setdefault(error.field, error)
    return sorted(first.values(), key=lambda e: _display_order(schema, e.pointer))


def _display_order(schema: Mapping[str, Any], pointer: str) -> tuple[int, ...]:
    names = list(schema.get("properties", {}))
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts or parts[0] not in names:
        return (len(names) + 1,)
    prop = schema["properties"][parts[0]]
    position = names.index(parts[0])
    rule = prop.get("x-reveal-when")
    key = (position, 0)
    if isinstance(rule, dict) and rule.get("property") in names:
        key = (names.index(rule["property"]), position + 1)
    if property_kind(prop) == "repeat" and len(parts) >= 3 and parts[1].isdigit():
        sub_names = list(item_schema(prop).get("properties", {}))
        sub = sub_names.index(parts[2]) if parts[2] in sub_names else len(sub_names)
        return (*key, int(parts[1]) + 1, sub)
    return key


_VALIDATORS: OrderedDict[tuple[int, tuple[Any, ...]], tuple[Mapping[str, Any], Any]] = OrderedDict()
_VALIDATORS_MAX = 256
_VALIDATORS_LOCK = threading.Lock()


def _validator(schema: Mapping[str, Any], dynamic: Mapping[str, Sequence[tuple[str, str]]]) -> Any:
    """A validator for the schema with these options, reused while the schema object lives.

    Forms come from cached process versions, so the same schema object is validated against
    again and again; the entry holds the schema itself, so its id cannot be reused meanwhile.
    """
    key = (
        id(schema),
        tuple(
            sorted((source, tuple(v for v, _ in options)) for source, options in dynamic.items())
        ),
    )
    with _VALIDATORS_LOCK:
        cached = _VALIDATORS.get(key)
        if cached is not None and cached[0] is schema:
            _VALIDATORS.move_to_end(key)
            return cached[1]
    validator = Draft202012Validator(_effective_schema(schema, dynamic), format_checker=_FORMATS)
    with _VALIDATORS_LOCK:
        _VALIDATORS[key] = (schema, validator)
        while len(_VALIDATORS) > _VALIDATORS_MAX:
            _VALIDATORS.popitem(last=False)
    return validator


def _effective_schema(
    schema: Mapping[str, Any], dynamic: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[str, Any]:
    effective: dict[str, Any] = copy.deepcopy(dict(schema))
    effective.setdefault("additionalProperties", False)
    for prop in effective.get("properties", {}).values():
        if property_kind(prop) == "repeat":
            prop["items"].setdefault("additionalProperties", False)
            subs = prop["items"].get("properties", {}).values()
        else:
            subs = [prop]
        for sub in subs:
            source = sub.get("x-options-from")
            if source is None:
                continue
            target = sub["items"] if sub.get("type") == "array" else sub
            if source in dynamic:
                target["enum"] = [str(value) for value, _label in dynamic[source]]
            else:
                target.pop("enum", None)
    return effective


def _drop_blanks(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _drop_blanks(item)
            for key, item in value.items()
            if item is not None and not (isinstance(item, str) and not item.strip())
        }
    if isinstance(value, list):
        return [_drop_blanks(item) for item in value]
    return value


def _escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _field_errors(schema: Mapping[str, Any], error: ValidationError) -> Iterator[FieldError]:
    path = list(error.absolute_path)
    keyword = str(error.validator)
    instance = error.instance
    if keyword in ("required", "dependentRequired") and isinstance(instance, Mapping):
        wanted: Any = error.validator_value
        if keyword == "dependentRequired":
            wanted = [n for key, names in wanted.items() if key in instance for n in names]
        for name in wanted:
            if name not in instance:
                yield _error_at(schema, [*path, name], "required", None)
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        for name in instance:
            if name not in known:
                yield _unknown(path, name)
    else:
        yield _error_at(schema, path, keyword, error.validator_value)


def _unknown(path: list[Any], name: Any) -> FieldError:
    field = "-".join(str(p) for p in [*path, name])
    pointer = _where(_escape(p) for p in [*path, name])
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", name):
        return FieldError(pointer, field, f"'{name}' is not a question on this form")
    return FieldError(pointer, field, "An answer was sent for a question that is not on this form")


def _error_at(schema: Mapping[str, Any], path: list[Any], keyword: str, limit: Any) -> FieldError:
    pointer = _where(_escape(p) for p in path)
    properties = schema.get("properties", {})
    if not path or path[0] not in properties:
        return FieldError(pointer, "", "The answers could not be read. Check them and try again")
    name = str(path[0])
    prop = properties[name]
    if property_kind(prop) == "repeat" and len(path) >= 3 and isinstance(path[1], int):
        sub = item_schema(prop).get("properties", {}).get(path[2])
        if isinstance(sub, Mapping):
            field = f"{name}-{path[1]}-{path[2]}"
            message = in_row(field_message(sub, keyword, limit), prop, path[1])
            return FieldError(pointer, field, message)
    if len(path) > 1 and property_kind(prop) == "repeat":
        index = path[1] if isinstance(path[1], int) else 0
        return FieldError(pointer, name, in_row("this row could not be read", prop, index))
    return FieldError(pointer, name, field_message(prop, keyword, limit))


def _dates_out_of_bounds(
    schema: Mapping[str, Any], answers: Any, today: date
) -> Iterator[tuple[list[Any], str]]:
    """(path, rule) of each real date answered against its question's `x-date` rule."""
    if not isinstance(answers, Mapping):
        return
    for name, prop in (schema.get("properties") or {}).items():
        value = answers.get(name)
        if property_kind(prop) == "repeat" and isinstance(value, list):
            subs = item_schema(prop).get("properties") or {}
            for index, row in enumerate(value):
                if isinstance(row, Mapping):
                    for sub_name, sub in subs.items():
                        if _breaks(sub, row.get(sub_name), today):
                            yield [name, index, sub_name], str(sub["x-date"])
        elif _breaks(prop, value, today):
            yield [name], str(prop["x-date"])


def _breaks(prop: Any, value: Any, today: date) -> bool:
    rule = prop.get("x-date") if isinstance(prop, Mapping) else None
    if rule is None or not isinstance(value, str):
        return False
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return False  # not a real date: the format check says so
    return day < today if rule == "not-past" else day > today
