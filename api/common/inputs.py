"""Guards on what a client sends, before any view sees it: JSON bodies, ids and text values.

Bad input is the client's to fix, so each guard answers with a 4xx problem naming the field:
- a JSON body must be valid JSON (no NaN or Infinity, no number beyond a float) nested at most
  `MAX_JSON_DEPTH` levels, so no later step can run out of stack on it;
- no text value (path, query, form field, JSON string or key) may hold a NUL character or an
  unpaired surrogate: neither database stores them, and no real text contains them;
- an id in a path fits the id columns (`IdConverter`); schema fields use `Id`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Request, request
from flask import json as flask_json
from werkzeug.routing import IntegerConverter

from domain.db import MAX_ID
from domain.errors import DomainError

__all__ = ["MAX_ID", "IdConverter", "install_input_guards", "parse_json"]

MAX_JSON_DEPTH = 64
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_TEXT_DETAIL = "Contains a character that is not allowed (a NUL or an unpaired surrogate)."
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InvalidJsonError(DomainError):
    """The request body is not JSON this service accepts."""

    status = 400
    code = "invalid-json"


class UnsupportedBodyError(DomainError):
    """A body an operation reads as JSON was sent as something else, so none of it was read."""

    status = 415
    code = "unsupported-media-type"


class InvalidTextError(DomainError):
    """A text value holds a character no record may store; `errors` names each place."""

    status = 400
    code = "invalid-characters"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("Some values contain characters that are not allowed.", errors=errors)


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a non-negative integer small enough to be a record id."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_parameter_schema(converter: IdConverter) -> dict[str, Any]:
    """The OpenAPI schema of an id path parameter."""
    return {"type": "integer", "minimum": converter.min or 0, "maximum": converter.max}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is too large")
    return value


def parse_json(data: str | bytes) -> Any:
    """Parse a JSON request body, or raise InvalidJsonError / InvalidTextError saying why."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise InvalidJsonError("The request body is not UTF-8 text.") from None
    value = _load(text)
    # The walks below run only when the text could hold what they look for: JSON can carry a
    # NUL or a surrogate only as a \u escape, and nests no deeper than it has brackets.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidJsonError(TOO_DEEP)
    if _ESCAPED_FORBIDDEN.search(text):
        bad = list(_bad_text(value))
        if bad:
            raise InvalidTextError([{"pointer": p, "detail": _TEXT_DETAIL} for p in bad])
    return value


TOO_DEEP = f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."
_ESCAPED_FORBIDDEN = re.compile(r"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _load(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:  # its msg names a position, never the content
        where = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise InvalidJsonError(f"The request body is not valid JSON: {where}.") from None
    except ValueError as exc:
        raise InvalidJsonError(f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise InvalidJsonError(TOO_DEEP) from None


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in inner if isinstance(child, dict | list))
    return False


def _pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _bad_text(value: Any) -> Iterable[str]:
    """JSON Pointers to every string or key holding a forbidden character (keys: the parent)."""
    stack: list[tuple[Any, str]] = [(value, "#")]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if _FORBIDDEN.search(item):
                yield at
        elif isinstance(item, dict):
            for key, child in item.items():
                if _FORBIDDEN.search(key):
                    yield at
                else:
                    stack.append((child, f"{at}/{_pointer_part(key)}"))
        elif isinstance(item, list):
            stack.extend((child, f"{at}/{index}") for index, child in enumerate(item))


class _GuardedJson:
    """The JSON module a request parses its body with: `parse_json`, and Flask's own dumps."""

    loads = staticmethod(parse_json)
    dumps = staticmethod(flask_json.dumps)


class GuardedRequest(Request):
    """A request whose `get_json()` applies the body guards.

    Flask points every request at `app.json`, which also reads the session cookie; the guards
    belong to request bodies only, so this request keeps its own JSON module.
    """

    @property
    def json_module(self) -> Any:
        """The guarded JSON module."""
        return _GuardedJson

    @json_module.setter
    def json_module(self, _provider: Any) -> None:
        """Ignore Flask's assignment of the app's JSON provider."""


def _check_request_text() -> None:
    """Refuse a NUL or unpaired surrogate in the path, query string or form fields of a request."""
    bad = [f"#/{_pointer_part(k)}" for k, v in (request.view_args or {}).items() if _is_bad(v)]
    bad += [f"#/{_pointer_part(k)}" for k, v in request.args.items(multi=True) if _is_bad(k, v)]
    if request.mimetype in _FORM_TYPES:
        bad += [f"#/{_pointer_part(k)}" for k, v in request.form.items(multi=True) if _is_bad(k, v)]
        bad += [
            f"#/{_pointer_part(k)}"
            for k, f in request.files.items(multi=True)
            if _is_bad(k, f.filename)
        ]
    if bad:
        raise InvalidTextError([{"pointer": p, "detail": _TEXT_DETAIL} for p in dict.fromkeys(bad)])


def _is_bad(*values: Any) -> bool:
    return any(isinstance(v, str) and _FORBIDDEN.search(v) for v in values)


def install_input_guards(app: Flask) -> None:
    """Install the guards; call before any route is added (the id converter applies at routing)."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = GuardedRequest
    app.before_request(_check_request_text)
