"""Authentication (bearer tokens for the API, the signed session for pages) and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import g, request, session

from api.common.context import base_context
from domain import errors
from domain.context import Actor
from domain.users import service as users

P = ParamSpec("P")
R = TypeVar("R")


def current_actor() -> Actor | None:
    """Return the signed-in actor for this request (token or page session), caching it on g."""
    if "actor" in g:
        actor: Actor | None = g.actor
        return actor
    actor = None
    header = request.headers.get("Authorization", "")
    ctx = base_context(None)
    if header.lower().startswith("bearer "):
        actor = users.actor_for_token(ctx, header[7:].strip())
    elif "user_id" in session and not request.path.startswith("/api/"):
        # the REST API takes bearer tokens only: a session cookie there would bypass CSRF checks
        user = users.find_user(ctx, int(session["user_id"]))
        if (
            user is not None
            and user.active
            and session.get("auth_version") == user.password_hash[-16:]
        ):
            actor = users.actor_of(user)
    g.actor = actor
    return actor


def require_actor() -> Actor:
    """Return the signed-in actor or raise AuthenticationError."""
    actor = current_actor()
    if actor is None:
        raise errors.AuthenticationError("Sign in first: send a valid bearer token.")
    return actor


def requires_role(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a signed-in user with any of the roles (no roles given: any signed-in user)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = require_actor()
            if roles and not actor.has_role(*roles):
                raise errors.PermissionDeniedError("Your role does not allow this.")
            return view(*args, **kwargs)

        return wrapper

    return decorate
