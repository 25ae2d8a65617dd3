"""RFC 9457 problem responses: one shape for every error, never personal data."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask.wrappers import Response
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError, ValidationFailedError

PROBLEM_MIMETYPE = "application/problem+json"


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    """Build an RFC 9457 problem response. Never put personal data in it."""
    body = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def pointers(messages: Any, prefix: str = "#") -> list[dict[str, str]]:
    """Flatten marshmallow/webargs messages into `errors` entries (JSON Pointer + detail)."""
    if isinstance(messages, dict):
        out: list[dict[str, str]] = []
        for key, value in messages.items():
            part = prefix if key == "_schema" else f"{prefix}/{key}"
            out.extend(pointers(value, part))
        return out
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [{"pointer": prefix, "detail": str(m)} for m in messages]
        return [e for m in messages for e in pointers(m, prefix)]
    return [{"pointer": prefix, "detail": str(messages)}]


@contextmanager
def errors_under(prefix: str) -> Iterator[None]:
    """Re-root the pointers of form-validation errors at a request-body field (e.g. `#/data`).

    Form errors point into the form data; an API client sent that data inside its body.
    """
    try:
        yield
    except ValidationFailedError as exc:
        errors = [{**e, "pointer": prefix + e["pointer"].removeprefix("#")} for e in exc.errors]
        raise ValidationFailedError(exc.detail, errors) from exc


def _webargs_messages(error: HTTPException) -> Any:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, dict) and len(messages) == 1:
        (only,) = messages.values()  # webargs nests by location: {"json": {...}}
        return only
    return messages


def http_problem(error: HTTPException) -> Response:
    """Convert any HTTPException (including webargs' 422) into a problem response.

    The exception's own headers go with it (a 405's `Allow`, say), but for its content type.
    """
    status = error.code or 500
    messages = _webargs_messages(error)
    if status == 422 and messages is not None:
        return problem(422, "invalid-body", "The request is not valid.", errors=pointers(messages))
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}
    detail = error.description if status < 500 else "An unexpected error occurred."
    response = problem(status, codes.get(status, "http-error"), str(detail or ""))
    if status < 500:
        response.headers.extend(own_headers(error))
    return response


def own_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers an HTTP error carries for the client (a 405's `Allow`), not its type."""
    return [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]


def _domain(error: DomainError) -> Response:
    response = problem(error.status, error.code, error.detail, **error.extra)
    if error.status == 401:  # RFC 6750: say which scheme to use, and whether the token failed
        sent = request.headers.get("Authorization", "").lower().startswith("bearer ")
        response.headers["WWW-Authenticate"] = 'Bearer realm="ThinkFamily"' + (
            ', error="invalid_token"' if sent else ""
        )
    response.headers.extend(getattr(error, "headers", {}))  # a 415's Accept-Encoding, say
    return response


def _validation(error: ValidationError) -> Response:
    return problem(
        422, "invalid-body", "The request body is not valid.", errors=pointers(error.messages)
    )


def _stale(error: StaleDataError) -> Response:
    return problem(409, "stale-write", "Someone else changed this record. Reload and try again.")


CLASH = "Someone else changed these records at the same moment. Reload and try again."


def _integrity(error: IntegrityError) -> Response:
    """A write a database constraint refused, left over from a race no service foresaw."""
    from api.common.extensions import db

    db.session.rollback()
    current_app.logger.warning(
        "write refused by a database constraint on %s %s at %s",
        request.method,
        request.url_rule,
        where(error),
    )
    return problem(409, "write-conflict", CLASH)


# PostgreSQL's serialization failure, deadlock and lock-not-available: another writer won
_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})
UNAVAILABLE = (
    "ThinkFamily cannot reach its database just now. Nothing was saved. Try again shortly."
)
RETRY_AFTER = "30"


def is_busy(error: OperationalError) -> bool:
    """Whether the database refused because another transaction holds what this one needs."""
    return (
        "database is locked" in str(error.orig)
        or getattr(error.orig, "sqlstate", None) in _BUSY_STATES
    )


def _operational(error: OperationalError) -> Response:
    if is_busy(error):
        return problem(409, "busy", "The record is being changed by someone else. Try again.")
    current_app.logger.error(
        "database unavailable (%s) on %s %s at %s",
        type(error.orig).__name__,
        request.method,
        request.url_rule,
        where(error),
    )
    response = problem(503, "database-unavailable", UNAVAILABLE)
    response.headers["Retry-After"] = RETRY_AFTER
    return response


_ROOT = Path(__file__).resolve().parents[2]
_LIBRARIES = "-packages"  # site-packages or dist-packages, inside a virtual environment or not


def where(error: BaseException) -> str:
    """Describe where an error arose (file and line per frame), without its message or data.

    The innermost frame, then up to three of ThinkFamily's own frames around it, so an error
    raised deep in a library still names the code that called it.
    """
    frames = traceback.extract_tb(error.__traceback__)
    own = [
        f for f in frames if Path(f.filename).is_relative_to(_ROOT) and _LIBRARIES not in f.filename
    ]
    chosen = [*own[-3:], *frames[-1:]]
    unique = list(dict.fromkeys((Path(f.filename).name, f.lineno) for f in reversed(chosen)))
    return " <- ".join(f"{name}:{line}" for name, line in unique)


def _unexpected(error: Exception) -> Response:
    current_app.logger.error(
        "unhandled %s on %s %s at %s",
        type(error).__name__,
        request.method,
        request.url_rule,
        where(error),
    )
    return problem(500, "internal-error", "An unexpected error occurred.")


def register_error_handlers(app: Flask) -> None:
    """Register one handler per error family."""
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(ValidationError, _validation)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(IntegrityError, _integrity)
    app.register_error_handler(OperationalError, _operational)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(Exception, _unexpected)
