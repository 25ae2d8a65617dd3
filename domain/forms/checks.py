"""Check that a form schema uses only the supported subset (for process owners)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import (  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
    Draft202012Validator,
)

from domain.forms.schema import (
    _CONDITIONAL_KEYWORDS,
    _ERROR_KEYS,
    _ITEM_OBJECT_KEYWORDS,
    _KEYWORDS,
    _TOP_KEYWORDS,
    DATE_RULES,
    DEFAULT_ROWS,
    DIALECT,
    NAME_PATTERN,
    FormSchemaError,
    _where,
    choice_widget,
    property_kind,
)
from engine import jsonsafe


def load_form_schema(path: str | Path) -> dict[str, Any]:
    """Read a form schema file and check it; raise FormSchemaError listing every problem."""
    source = Path(path)
    try:
        schema = jsonsafe.loads(source.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
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


def check_form_extensions(schema: Mapping[str, Any]) -> list[str]:
    """Check that the page hints a form gives (`x-...`) have the shapes pages rely on.

    Deploying runs this on every form: a JSON Schema may carry any extra keyword, but a
    malformed hint (an `x-reveal-when` that is not `{"property", "value"}`, say) would break
    the task's page for every practitioner who opened it. Unlike `check_form_schema` it does
    not insist on the page subset: a form used only through the API may go beyond it.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    return list(_extension_problems(properties, row_of=None))


def _extension_problems(properties: Mapping[str, Any], *, row_of: str | None) -> Iterator[str]:
    for name, prop in properties.items():
        label = f"Question '{row_of}', row question '{name}'" if row_of else f"Question '{name}'"
        if not isinstance(prop, dict):
            if not isinstance(prop, bool):
                yield f"{label} must be a JSON object"
            continue
        if "x-enum-labels" in prop:
            yield from _check_labels(label, prop)
        if "x-options-from" in prop:
            yield from _check_options_from(label, prop["x-options-from"])
        rule = prop.get("x-reveal-when")
        if "x-reveal-when" in prop and (
            not isinstance(rule, dict)
            or set(rule) != {"property", "value"}
            or not isinstance(properties.get(rule["property"]), dict)
            or rule["property"] == name
        ):
            yield (
                f'{label}: \'x-reveal-when\' must be {{"property": ..., "value": ...}} naming'
                " another question of the form"
            )
        if "x-rows" in prop:
            yield from _check_rows(label, prop["x-rows"])
        if prop.get("type") == "array":
            items = prop.get("items")
            if not isinstance(items, dict):
                yield f"{label}: 'items' must be a JSON object describing one answer or row"
            else:
                if "x-enum-labels" in items:
                    yield from _check_labels(f"{label} 'items'", items)
                sub = items.get("properties")
                if isinstance(sub, dict) and row_of is None:
                    yield from _extension_problems(sub, row_of=name)


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
    if "x-date" in prop and (prop.get("format") != "date" or prop["x-date"] not in DATE_RULES):
        rules = " or ".join(f'"{rule}"' for rule in DATE_RULES)
        yield f'{label}: \'x-date\' must be {rules}, on a question with "format": "date"'
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
        yield from _check_rows(label, prop.get("x-rows", DEFAULT_ROWS))
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


def _check_options_from(label: str, source: Any) -> Iterator[str]:
    if not isinstance(source, str) or not source:
        yield f"{label}: 'x-options-from' must name a list of choices"


def _check_rows(label: str, rows: Any) -> Iterator[str]:
    if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= 20:
        yield f"{label}: 'x-rows' must be a whole number from 1 to 20"


def _check_extensions(label: str, prop: Mapping[str, Any]) -> Iterator[str]:
    if "x-enum-labels" in prop:
        yield from _check_labels(label, prop)
    source = prop.get("x-options-from")
    if source is not None:
        yield from _check_options_from(label, source)
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
