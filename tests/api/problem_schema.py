"""The Problem schema as the OpenAPI document publishes it, to check real error bodies against.

Error bodies are checked against the same marshmallow schema the API documents them with (and
a test checks the served document names it), so a problem member the document does not
describe, or a described member of the wrong type, fails the test that produced it.
"""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from jsonschema import Draft7Validator

from api.rest.common import ProblemSchema


def as_json_schema(value: Any) -> Any:
    """OpenAPI 3.0 schemas as JSON Schema: `nullable: true` becomes a `null` type."""
    if isinstance(value, list):
        return [as_json_schema(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: as_json_schema(v) for k, v in value.items() if k != "nullable"}
    if value.get("nullable") and "type" in value:
        out["type"] = [value["type"], "null"]
    return out


@functools.cache
def problem_components() -> dict[str, Any]:
    """The `components` of an OpenAPI document holding only the Problem schema and its parts."""
    spec = APISpec("problems", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Problem", schema=ProblemSchema)
    components: dict[str, Any] = spec.to_dict()["components"]
    return components


@functools.cache
def _validator() -> Draft7Validator:
    schema = {"$ref": "#/components/schemas/Problem", "components": problem_components()}
    return Draft7Validator(as_json_schema(schema))


def schema_errors(body: Any) -> list[str]:
    """How a problem body differs from the documented Problem schema (empty when it matches)."""
    found = _validator().iter_errors(body)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found)


def assert_documented_problem(body: Any) -> None:
    """Fail when a problem body is not what the OpenAPI document says every error body is."""
    errors = schema_errors(body)
    assert not errors, errors
