"""A small CSRF guard for the pages: one random token per session, checked on every write.

Every page form carries ``<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">``;
scripts that write through a page endpoint send the token in the ``X-CSRF-Token`` header. The
REST API under /api/ authenticates with bearer tokens and is not checked here.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session
from werkzeug.exceptions import BadRequest

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_PREFIXES = ("/api/",)


class CSRFError(BadRequest):
    """The posted form did not carry this session's CSRF token (400)."""

    description = "The form you sent had expired. Go back, reload the page and try again."


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use (the `csrf_token()` global)."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def rotate_csrf_token() -> str:
    """Replace the session's token (after signing in) and return the new one."""
    session.pop(SESSION_KEY, None)
    return csrf_token()


def token_is_valid(submitted: str | None) -> bool:
    """Return whether `submitted` matches this session's token (compared in constant time)."""
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def is_exempt(path: str) -> bool:
    """Return whether a path is outside the CSRF check (the bearer-token REST API)."""
    return path.startswith(EXEMPT_PREFIXES)


def check_request() -> None:
    """Raise CSRFError unless a write request carries the session's token (before_request hook).

    Raises:
        CSRFError: the token is missing or does not match.
    """
    if request.method in SAFE_METHODS or is_exempt(request.path):
        return
    submitted = request.headers.get(HEADER) or request.form.get(FORM_FIELD)
    if not token_is_valid(submitted):
        raise CSRFError()


def init_csrf(app: Flask) -> None:
    """Expose `csrf_token()` to templates and check every non-GET page request."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(check_request)
