"""POST /auth/token: username and password for a bearer token; DELETE /auth/token: sign out."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import fields

from api.common.auth import require_actor
from api.common.context import base_context
from api.rest.common import Blueprint, StrictSchema
from domain import errors
from domain.audit import service as audit
from domain.db import unit_of_work
from domain.users import service as users

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign in for a bearer token")


class TokenRequestSchema(StrictSchema):
    """Credentials."""

    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(StrictSchema):
    """A bearer token."""

    access_token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()


@bp.post("/token")
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.problem_response(401, "The username or password is not right.")
@bp.problem_response(
    429,
    "Too many failed sign-ins in a row with this username: the `Retry-After` header says how"
    " many seconds to wait. Each failure after the fifth doubles the wait, up to 15 minutes.",
)
@bp.doc(security=[])
def issue_token(payload: dict[str, Any]) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    ctx = base_context(None)
    with unit_of_work(ctx.session):  # a refusal is committed too: it counts towards a wait
        user = users.check_sign_in(ctx, username=payload["username"], password=payload["password"])
        if user is not None:
            token, row = users.issue_token(ctx, user)
            ctx.actor = users.actor_of(user)
            audit.record(ctx, "user.signed_in", ("user", user.id), via="api")
    if user is None:
        raise errors.AuthenticationError("The username or password is not right.")
    return {"access_token": token, "token_type": "Bearer", "expires_at": row.expires_at}


@bp.delete("/token")
@bp.response(204)
def revoke_token() -> None:
    """Sign out: revoke the bearer token this request was sent with."""
    actor = require_actor()
    ctx = base_context(actor)
    token = request.headers.get("Authorization", "")[7:].strip()
    with unit_of_work(ctx.session):
        if not users.revoke_token(ctx, token):  # signed out at the same moment by another call
            raise errors.AuthenticationError("The token has been revoked.")
        audit.record(ctx, "user.signed_out", ("user", actor.user_id), via="api")
