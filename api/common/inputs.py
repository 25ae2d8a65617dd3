"""Guards on what a client sends, before any view sees it: JSON bodies, ids and text values.

Bad input is the client's to fix, so each guard answers with a 4xx problem naming the field:
- a JSON body must be strict JSON (`engine.jsonsafe`): no NaN or Infinity, no number beyond a
  float, no name twice in one object, nested at most `MAX_JSON_DEPTH` levels;
- no text value (path, query, form field, JSON string or key) may hold a NUL character or an
  unpaired surrogate: neither database stores them, and no real text contains them;
- an id in a path fits the id columns (`IdConverter`); schema fields use `Id`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from flask import json as flask_json
from werkzeug.routing import IntegerConverter

from domain.db import MAX_ID
from domain.errors import DomainError
from engine import jsonsafe

__all__ = ["MAX_ID", "IdConverter", "install_input_guards", "parse_json"]

MAX_JSON_DEPTH = jsonsafe.MAX_DEPTH
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

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.headers = headers or {}


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


def parse_json(data: str | bytes) -> Any:
    """Parse a JSON request body, or raise InvalidJsonError / InvalidTextError saying why."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise InvalidJsonError("The request body is not UTF-8 text.") from None
    try:
        value = jsonsafe.loads(text)
    except jsonsafe.JsonTextError as exc:
        if exc.reason == jsonsafe.TOO_DEEP:
            raise InvalidJsonError(
                f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        raise InvalidJsonError(f"The request body is not valid JSON: {exc.reason}.") from None
    if jsonsafe.could_hold_bad_text(text):
        bad = list(jsonsafe.bad_text(value))
        if bad:
            raise InvalidTextError([{"pointer": p, "detail": _TEXT_DETAIL} for p in bad])
    return value


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


def _check_request_body() -> None:
    """Refuse a body in a content coding (gzip, say): it would be read as if it were plain."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise UnsupportedBodyError(
            "Send the request body without a content encoding such as gzip.",
            headers={"Accept-Encoding": "identity"},
        )


def _check_request_text() -> None:
    """Refuse a NUL or unpaired surrogate in the path, query string or form fields of a request."""
    bad = [
        f"#/{jsonsafe.pointer_part(k)}" for k, v in (request.view_args or {}).items() if _is_bad(v)
    ]
    bad += [
        f"#/{jsonsafe.pointer_part(k)}" for k, v in request.args.items(multi=True) if _is_bad(k, v)
    ]
    if request.mimetype in _FORM_TYPES:
        bad += [
            f"#/{jsonsafe.pointer_part(k)}"
            for k, v in request.form.items(multi=True)
            if _is_bad(k, v)
        ]
        bad += [
            f"#/{jsonsafe.pointer_part(k)}"
            for k, f in request.files.items(multi=True)
            if _is_bad(k, f.filename)
        ]
    if bad:
        raise InvalidTextError([{"pointer": p, "detail": _TEXT_DETAIL} for p in dict.fromkeys(bad)])


def _is_bad(*values: Any) -> bool:
    return any(isinstance(v, str) and jsonsafe.FORBIDDEN.search(v) for v in values)


def install_input_guards(app: Flask) -> None:
    """Install the guards; call before any route is added (the id converter applies at routing)."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = GuardedRequest
    app.before_request(_check_request_body)
    app.before_request(_check_request_text)
