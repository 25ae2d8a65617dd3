"""Task forms: load, check and validate the JSON Schemas in forms/.

A form is a JSON Schema (draft 2020-12) object whose properties are the questions, in display
order. Only a small subset of JSON Schema is supported, so that every form can be rendered with
GOV.UK Frontend components (see web/formrender.py). This module is framework-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import (  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
    FormatChecker,
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
_STRING = {"enum", "x-enum-labels", "x-widget", "format", "maxLength", "minLength", "pattern"} | {
    "x-date"
}
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
    _NUMBER | {"minLength", "maxLength", "minItems", "maxItems", "x-date", "contains"}
)
DATE_RULES = {"not-past": "today or in the future", "not-future": "today or in the past"}
"""`"x-date"` on a date question: a planned date may not be past, what happened not future."""
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


_MODALS = {"do", "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might"}
_AUXILIARIES = _MODALS | {"must", "is", "are", "was", "were", "has", "have", "had"}


def _inverted(title: str) -> bool:
    """Whether a question puts its verb before its subject ("Why can your agency not attend?").

    Such a question cannot follow "Enter" or "Select" as it stands; "What was observed?" can.
    """
    words = title.strip().lower().split()
    if len(words) < 2 or not title.strip().endswith("?") or words[0] not in _WH_WORDS:
        return False
    if words[0] in ("what", "which", "who"):
        return words[1] in _MODALS
    return words[1] in _AUXILIARIES


def _select_message(title: str) -> str:
    first = title.strip().split(" ", 1)[0].lower()
    if title.strip().endswith("?") and (first not in _WH_WORDS or _inverted(title)):
        return f'Select an answer for "{title.strip()}"'
    return f"Select {_phrase(title)}"


def _enter_message(title: str) -> str:
    if _inverted(title):
        return f'Answer "{title.strip()}"'
    return f"Enter {_phrase(title)}"


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
        return _select_message(title) if kind in CHOICE_KINDS else _enter_message(title)
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
        "x-date": f"{subject} must be {DATE_RULES.get(str(limit), 'a real date')}",
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


def _where(path: Iterable[Any]) -> str:
    return "#" + "".join(f"/{part}" for part in path)
