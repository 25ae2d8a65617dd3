"""Task forms: load, check and validate the JSON Schemas in forms/.

A form is a JSON Schema (draft 2020-12) object whose properties are the questions, in display
order. Only a small subset of JSON Schema is supported, so that every form can be rendered with
GOV.UK Frontend components (see web/formrender.py). This package is framework-free.
"""

from domain.forms.checks import check_form_extensions, check_form_schema, load_form_schema
from domain.forms.schema import (
    CHOICE_KINDS,
    DEFAULT_ROWS,
    DIALECT,
    MAX_RADIOS,
    NAME_PATTERN,
    FieldError,
    FormSchemaError,
    Kind,
    choice_widget,
    date_parts_message,
    enum_choices,
    field_message,
    in_row,
    item_schema,
    property_kind,
    row_title,
)
from domain.forms.validation import sort_errors, validate_form

__all__ = [
    "CHOICE_KINDS",
    "DEFAULT_ROWS",
    "DIALECT",
    "MAX_RADIOS",
    "NAME_PATTERN",
    "FieldError",
    "FormSchemaError",
    "Kind",
    "check_form_extensions",
    "check_form_schema",
    "choice_widget",
    "date_parts_message",
    "enum_choices",
    "field_message",
    "in_row",
    "item_schema",
    "load_form_schema",
    "property_kind",
    "row_title",
    "sort_errors",
    "validate_form",
]
