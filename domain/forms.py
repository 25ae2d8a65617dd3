"""Task forms: load, check and validate the JSON Schemas in forms/.

A form is a JSON Schema (draft 2020-12) object whose properties are the questions, in display
order. Only a small subset of JSON Schema is supported, so that every form can be rendered with
GOV.UK Frontend components (see web/formrender.py). This module is framework-free.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonschema import (  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
    Draft202012Validator,
    FormatChecker,
    ValidationError,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_RADIOS = 6
DEFAULT_ROWS = 3

Kind = Literal[
    "text", "textarea", "date", "choice", "boolean", "integer", "number", "multichoice", "repeat"
]
CHOICE_KINDS: frozenset[str] = frozenset({"choice", "boolean", "multichoice"})

_COMMON = {"type", "title", "description", "$comment", "x-error-messages", "x-reveal-when"}
_STRING = {"enum", "x-enum-labels", "x-widget", "format", "maxLength", "minLength", "pattern"}
_NUMBER = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
_ARRAY = {"items", "minItems", "maxItems", "uniqueItems", "x-rows", "x-options-from"}
_KEYWORDS: dict[str, set[str]] = {
    "string": _COMMON | _STRING | {"x-options-from"},
    "boolean": _COMMON,
    "integer": _COMMON | _NUMBER,
    "number": _COMMON | _NUMBER,
    "array": _COMMON | _ARRAY,
}
_CONDITIONAL_KEYWORDS = {"$comment", "allOf", "if", "then", "else", "required"} | {
    "properties",
    "dependentRequired",
}
_TOP_KEYWORDS = (
    _CONDITIONAL_KEYWORDS
    | {"$schema", "$id", "type", "title", "description"}
    | {"additionalProperties"}
)
_ITEM_OBJECT_KEYWORDS = {"type", "title", "description", "$comment", "properties", "required"} | {
    "additionalProperties"
}
# keywords whose message a schema author can replace with "x-error-messages"
_ERROR_KEYS = {"required", "type", "enum", "const", "format", "pattern", "uniqueItems"} | (
    _NUMBER | {"minLength", "maxLength", "minItems", "maxItems"}
)
_WH_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
_CHOICE_KEYWORDS = frozenset({"type", "enum", "const"})
_FORMATS = FormatChecker(formats=("date",))


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer, worded for the practitioner who gave it."""

    pointer: str
    field: str
    message: str


class FormSchemaError(ValueError):
    """A form schema that cannot be used; `problems` says what the process owner must fix."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = list(problems)


# --- shapes shared with the renderer -------------------------------------------------------


def property_kind(prop: Mapping[str, Any]) -> Kind:
    """Classify one property schema into the question shape that renders and validates it."""
    kind = prop.get("type")
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return "integer" if kind == "integer" else "number"
    if kind == "array":
        items = prop.get("items")
        is_object = isinstance(items, Mapping) and items.get("type") == "object"
        return "repeat" if is_object else "multichoice"
    if "enum" in prop or "x-options-from" in prop:
        return "choice"
    if prop.get("format") == "date":
        return "date"
    max_length = prop.get("maxLength")
    if prop.get("x-widget") == "textarea" or (isinstance(max_length, int) and max_length > 100):
        return "textarea"
    return "text"


def choice_widget(prop: Mapping[str, Any], count: int) -> Literal["radios", "select"]:
    """Pick radios or a select for a single-choice question with `count` options."""
    widget = prop.get("x-widget")
    if widget in ("radios", "select"):
        return "radios" if widget == "radios" else "select"
    return "radios" if count <= MAX_RADIOS else "select"


def enum_choices(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the (value, label) pairs of an enum property, or of its array items."""
    source = prop["items"] if prop.get("type") == "array" else prop
    values = [str(v) for v in source.get("enum", [])]
    labels = source.get("x-enum-labels") or prop.get("x-enum-labels") or values
    return list(zip(values, [str(label) for label in labels], strict=False))


def item_schema(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the object schema of one row of a repeated-fieldset property."""
    items: Mapping[str, Any] = prop["items"]
    return items


def row_title(prop: Mapping[str, Any]) -> str:
    """Return the singular name of one row of a repeated-fieldset property ("Action")."""
    return str(item_schema(prop).get("title") or "Item")


# --- messages ------------------------------------------------------------------------------


def _phrase(title: str) -> str:
    """Turn a title into a phrase that can follow a verb: "What was observed?" -> "what was..."."""
    text = title.strip().rstrip("?").strip()
    if len(text) > 1 and text[1].isupper():  # keep acronyms such as "GP name"
        return text
    return text[:1].lower() + text[1:]


def _select_message(title: str) -> str:
    first = title.strip().split(" ", 1)[0].lower()
    if title.strip().endswith("?") and first not in _WH_WORDS:
        return f'Select an answer for "{title.strip()}"'
    return f"Select {_phrase(title)}"


def _subject(title: str) -> str:
    """Name an answer at the start of a sentence: a question title cannot be the subject."""
    text = title.strip()
    return f'The answer to "{text}"' if text.endswith("?") else text


def _number(limit: Any) -> str:
    if isinstance(limit, float) and limit.is_integer():
        return str(int(limit))
    return str(limit)


def field_message(prop: Mapping[str, Any], keyword: str, limit: Any = None) -> str:
    """Return the practitioner-facing message for `keyword` failing on one property.

    The schema author can override any message with `"x-error-messages": {keyword: text}`.
    The submitted value is never part of the message.
    """
    if keyword in ("minLength", "minItems") and limit == 1:
        keyword = "required"  # an empty answer, however the schema says it
    custom = prop.get("x-error-messages")
    kind = property_kind(prop)
    if isinstance(custom, Mapping):
        if isinstance(custom.get(keyword), str):
            return str(custom[keyword])
        # a choice that is not one of the options gets the same "Select ..." as no choice
        if kind in CHOICE_KINDS and keyword in _CHOICE_KEYWORDS and "required" in custom:
            return str(custom["required"])
    title = str(prop.get("title") or "This answer")
    subject = _subject(title)
    if keyword == "required":
        if kind == "repeat":
            return f"Add at least one {_phrase(row_title(prop))}"
        return _select_message(title) if kind in CHOICE_KINDS else f"Enter {_phrase(title)}"
    if kind in CHOICE_KINDS and keyword in _CHOICE_KEYWORDS:
        return _select_message(title)
    simple = {
        "format": f"{subject} must be a real date",
        "maxLength": f"{subject} must be {limit} characters or fewer",
        "minLength": f"{subject} must be {limit} characters or more",
        "pattern": f"Enter {_phrase(title)} in the correct format",
        "minimum": f"{subject} must be {_number(limit)} or more",
        "maximum": f"{subject} must be {_number(limit)} or less",
        "exclusiveMinimum": f"{subject} must be more than {_number(limit)}",
        "exclusiveMaximum": f"{subject} must be less than {_number(limit)}",
        "multipleOf": f"{subject} must be a multiple of {_number(limit)}",
        "uniqueItems": f"{subject} must not contain the same answer twice",
    }
    if keyword in simple:
        return simple[keyword]
    if keyword == "type":
        types = {"integer": "a whole number", "number": "a number", "date": "a real date"}
        return f"{subject} must be {types.get(kind, 'text')}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "no more than"
        if kind == "multichoice":
            return f"Select {bound} {limit} {'option' if limit == 1 else 'options'}"
        return f"{subject} must have {bound} {limit} {'entry' if limit == 1 else 'entries'}"
    if kind in CHOICE_KINDS:
        return _select_message(title)
    return f"Enter {_phrase(title)} in the correct format"


def date_parts_message(prop: Mapping[str, Any], missing: Sequence[str]) -> str:
    """Return the message for a date with some of day, month and year left blank."""
    custom = prop.get("x-error-messages")
    if isinstance(custom, Mapping) and isinstance(custom.get("format"), str):
        return str(custom["format"])
    return f"{_subject(str(prop.get('title') or 'Date'))} must include a {' and '.join(missing)}"


def in_row(message: str, prop: Mapping[str, Any], index: int) -> str:
    """Prefix a message about one field of a repeated fieldset with its row ("Action 2: ...")."""
    return f"{row_title(prop)} {index + 1}: {message}"


# --- loading and checking ------------------------------------------------------------------


def load_form_schema(path: str | Path) -> dict[str, Any]:
    """Read a form schema file and check it; raise FormSchemaError listing every problem."""
    source = Path(path)
    try:
        schema = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormSchemaError(source.name, [f"The file cannot be read as JSON ({exc})"]) from exc
    problems = check_form_schema(schema)
    if problems:
        raise FormSchemaError(source.name, problems)
    result: dict[str, Any] = schema
    return result


def check_form_schema(schema: Any) -> list[str]:
    """Check that a form schema is valid draft 2020-12 and uses only the supported subset."""
    if not isinstance(schema, dict):
        return ["The form must be a JSON object"]
    problems = [
        f"Not valid JSON Schema at {_where(error.absolute_path)}: {error.message}"
        for error in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)
    ]
    if problems:
        return problems
    problems.extend(_check_top(schema))
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append("The form must list its questions under 'properties'")
        return problems
    for name, prop in properties.items():
        problems.extend(_check_property(name, prop, properties, nested=False))
    problems.extend(_check_required(schema.get("required", []), properties, "The form"))
    for name in schema.get("required", []):
        prop = properties.get(name)
        if isinstance(prop, dict) and "x-reveal-when" in prop:
            problems.append(
                f"'{name}' is only shown for one answer, so it cannot be always required: "
                "require it with allOf/if/then instead"
            )
    rules = {
        k: v for k, v in schema.items() if k in _CONDITIONAL_KEYWORDS - {"required", "properties"}
    }
    problems.extend(_check_conditional(rules, properties, ""))
    return problems


def _where(path: Iterable[Any]) -> str:
    return "#" + "".join(f"/{part}" for part in path)


def _check_top(schema: Mapping[str, Any]) -> Iterator[str]:
    if "$schema" in schema and str(schema["$schema"]).rstrip("#") != DIALECT:
        yield f"'$schema' must be {DIALECT}"
    if schema.get("type") != "object":
        yield 'The form must have "type": "object"'
    if not isinstance(schema.get("title"), str) or not schema["title"].strip():
        yield "The form must have a 'title'"
    for keyword in sorted(set(schema) - _TOP_KEYWORDS):
        yield f"The form uses '{keyword}', which is not supported"


def _check_required(required: Any, properties: Mapping[str, Any], owner: str) -> Iterator[str]:
    for name in required if isinstance(required, list) else []:
        if name not in properties:
            yield f"{owner} requires '{name}', which is not one of its questions"


def _check_property(
    name: str, prop: Any, siblings: Mapping[str, Any], *, nested: bool
) -> Iterator[str]:
    label = f"Question '{name}'"
    if not NAME_PATTERN.fullmatch(name):
        yield f"{label}: names must start with a letter and use only letters, digits and _"
    if not isinstance(prop, dict):
        yield f"{label} must be a JSON object"
        return
    kind_name = prop.get("type")
    if not isinstance(kind_name, str) or kind_name not in _KEYWORDS:
        yield f"{label}: 'type' must be one of string, boolean, integer, number or array"
        return
    if not isinstance(prop.get("title"), str) or not prop["title"].strip():
        yield f"{label} must have a 'title' (its label)"
    for keyword in sorted(set(prop) - _KEYWORDS[kind_name]):
        yield f"{label} uses '{keyword}', which is not supported here"
    yield from _check_shape(label, prop, nested=nested)
    yield from _check_extensions(label, prop)
    if "x-reveal-when" in prop:
        yield from _check_reveal(name, prop, siblings, nested=nested)


def _check_shape(label: str, prop: Mapping[str, Any], *, nested: bool) -> Iterator[str]:
    kind = prop["type"]
    if kind == "string":
        if "format" in prop and prop["format"] != "date":
            hint = ' (for a long answer use "x-widget": "textarea")'
            yield f'{label}: only "format": "date" is supported' + (
                hint if prop["format"] == "textarea" else ""
            )
        if "enum" in prop and (
            not prop["enum"] or not all(isinstance(v, str) and v for v in prop["enum"])
        ):
            yield f"{label}: 'enum' must list non-empty strings"
        widget = prop.get("x-widget")
        choice = "enum" in prop or "x-options-from" in prop
        if widget is not None and widget not in (("radios", "select") if choice else ("textarea",)):
            allowed = "radios or select" if choice else "textarea"
            yield f"{label}: 'x-widget' must be {allowed} for this question"
    if kind == "array":
        yield from _check_array(label, prop, nested=nested)


def _check_array(label: str, prop: Mapping[str, Any], *, nested: bool) -> Iterator[str]:
    items = prop.get("items")
    if not isinstance(items, dict) or items.get("type") not in ("string", "object"):
        yield f"{label}: 'items' must be a string enum (checkboxes) or an object (repeated rows)"
        return
    if items["type"] == "string":
        allowed = {"type", "enum", "x-enum-labels", "$comment"}
        has_enum = isinstance(items.get("enum"), list) and items["enum"]
        if not has_enum and "x-options-from" not in prop:
            yield f"{label}: 'items' needs an 'enum' (or use 'x-options-from')"
        if "x-enum-labels" in items:
            yield from _check_labels(label, items)
        if "x-rows" in prop:
            yield f"{label}: 'x-rows' is only for rows of objects"
    else:
        allowed = _ITEM_OBJECT_KEYWORDS
        if nested:
            yield f"{label}: repeated rows cannot be nested inside other rows"
        if "x-options-from" in prop or "x-reveal-when" in prop:
            yield f"{label}: repeated rows cannot use 'x-options-from' or 'x-reveal-when'"
        rows = prop.get("x-rows", DEFAULT_ROWS)
        if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= 20:
            yield f"{label}: 'x-rows' must be a whole number from 1 to 20"
        if not isinstance(items.get("title"), str) or not items["title"].strip():
            yield f"{label}: 'items' must have a 'title' naming one row, such as \"Action\""
        sub = items.get("properties")
        if not isinstance(sub, dict) or not sub:
            yield f"{label}: 'items' must list the row's questions under 'properties'"
        else:
            for sub_name, sub_prop in sub.items():
                yield from _check_property(sub_name, sub_prop, sub, nested=True)
            yield from _check_required(items.get("required", []), sub, label)
    for keyword in sorted(set(items) - allowed):
        yield f"{label}: 'items' uses '{keyword}', which is not supported"


def _check_labels(label: str, source: Mapping[str, Any]) -> Iterator[str]:
    labels, values = source.get("x-enum-labels"), source.get("enum")
    if not isinstance(labels, list) or not all(isinstance(v, str) and v for v in labels):
        yield f"{label}: 'x-enum-labels' must be a list of non-empty strings"
    elif not isinstance(values, list) or len(labels) != len(values):
        yield f"{label}: 'x-enum-labels' must have one label for each value in 'enum'"


def _check_extensions(label: str, prop: Mapping[str, Any]) -> Iterator[str]:
    if "x-enum-labels" in prop:
        yield from _check_labels(label, prop)
    source = prop.get("x-options-from")
    if source is not None and (not isinstance(source, str) or not source):
        yield f"{label}: 'x-options-from' must name a list of choices"
    if source is not None and prop["type"] == "string" and "enum" in prop:
        yield f"{label}: use either 'enum' or 'x-options-from', not both"
    messages = prop.get("x-error-messages")
    if messages is not None:
        if not isinstance(messages, dict) or not all(
            isinstance(v, str) and v for v in messages.values()
        ):
            yield f"{label}: 'x-error-messages' must map keywords to messages"
        else:
            for keyword in sorted(set(messages) - _ERROR_KEYS):
                yield f"{label}: 'x-error-messages' has '{keyword}', which is not a known check"


def _check_reveal(
    name: str, prop: Mapping[str, Any], siblings: Mapping[str, Any], *, nested: bool
) -> Iterator[str]:
    label = f"Question '{name}'"
    rule = prop["x-reveal-when"]
    if nested:
        yield f"{label}: 'x-reveal-when' is not supported inside repeated rows"
        return
    if not isinstance(rule, dict) or set(rule) != {"property", "value"}:
        yield f'{label}: \'x-reveal-when\' must be {{"property": ..., "value": ...}}'
        return
    target = siblings.get(rule["property"])
    if not isinstance(target, dict) or rule["property"] == name:
        yield f"{label}: 'x-reveal-when' names '{rule['property']}', which is not a question here"
        return
    if "x-reveal-when" in target:
        yield f"{label}: it cannot be revealed by a question that is itself revealed"
    kind = property_kind(target)
    if kind == "boolean":
        if not isinstance(rule["value"], bool):
            yield f"{label}: 'x-reveal-when' value must be true or false"
    elif (
        kind == "choice"
        and "enum" in target
        and choice_widget(target, len(target["enum"])) == "radios"
    ):
        if rule["value"] not in target["enum"]:
            yield f"{label}: 'x-reveal-when' value is not one of the answers"
    else:
        yield f"{label}: it can only be revealed by a yes/no or radios question with an 'enum'"


def _check_conditional(block: Any, properties: Mapping[str, Any], where: str) -> Iterator[str]:
    if not isinstance(block, dict):
        return
    rule = f"Rule {where}" if where else "The form"
    for keyword in sorted(set(block) - _CONDITIONAL_KEYWORDS):
        yield f"{rule} uses '{keyword}', which is not supported (use allOf with if/then)"
    mentioned = list(block.get("required", []))
    if isinstance(block.get("properties"), dict):
        mentioned.extend(block["properties"])
    if isinstance(block.get("dependentRequired"), dict):
        for name, needed in block["dependentRequired"].items():
            mentioned.extend([name, *needed])
    for name in dict.fromkeys(mentioned):
        if name not in properties:
            yield f"{rule} refers to '{name}', which is not one of the questions"
    condition = block.get("if")
    if isinstance(condition, dict) and isinstance(condition.get("properties"), dict):
        for name in condition["properties"]:
            if name not in condition.get("required", []):
                yield (
                    f"{rule}: 'if' tests '{name}' but does not list it in its 'required', "
                    "so the rule would also apply when the question is unanswered"
                )
    for keyword in ("if", "then", "else"):
        if keyword in block:
            yield from _check_conditional(
                block[keyword], properties, f"{where}.{keyword}".lstrip(".")
            )
    for index, sub in enumerate(block.get("allOf", [])):
        yield from _check_conditional(sub, properties, f"{where}.allOf[{index}]".lstrip("."))


# --- validation ----------------------------------------------------------------------------


def validate_form(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    dynamic_choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[FieldError]:
    """Validate answers against a checked form schema; return errors in display order.

    Blank strings and None count as unanswered. Questions with `x-options-from` are checked for
    type only, unless `dynamic_choices` supplies the allowed (value, label) pairs.
    """
    effective = _effective_schema(schema, dynamic_choices or {})
    validator = Draft202012Validator(effective, format_checker=_FORMATS)
    found: list[FieldError] = []
    ranks: dict[FieldError, int] = {}
    for error in validator.iter_errors(_drop_blanks(data)):
        for field_error in _field_errors(schema, error):
            found.append(field_error)
            ranks[field_error] = _RANK.get(str(error.validator), len(_RANK))
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
        wanted = error.validator_value
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
