"""Create users, check passwords (argon2) and issue bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select

from domain import errors
from domain.agencies.models import Agency
from domain.context import Actor, Context
from domain.lanes import ROLES
from domain.users.models import ApiToken, User

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
TOKEN_LIFETIME = timedelta(hours=12)


def actor_of(user: User) -> Actor:
    """Build the actor for a signed-in user."""
    return Actor(
        user_id=user.id,
        username=user.username,
        agency_id=user.agency_id,
        agency_code=user.agency.code,
        agency_kind=user.agency.kind,
        roles=user.roles,
    )


def create_user(
    ctx: Context,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    agency_code: str,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Create a user in an existing agency with the given roles."""
    role_set = sorted(set(roles))
    unknown = [r for r in role_set if r not in ROLES]
    if unknown or not role_set:
        raise errors.ValidationFailedError(
            "Unknown or missing role.",
            [{"pointer": "#/roles", "detail": "Use one of: " + ", ".join(sorted(ROLES))}],
        )
    if len(password) < 10:
        raise errors.ValidationFailedError(
            "The password is too short.",
            [{"pointer": "#/password", "detail": "Use at least 10 characters."}],
        )
    agency = ctx.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise errors.NotFoundError("No agency with that code.")
    if ctx.session.scalar(select(User).where(User.username == username)) is not None:
        raise errors.ConflictError("That username is taken.")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=_HASHER.hash(password),
        roles_csv=",".join(role_set),
        agency_id=agency.id,
        created_at=ctx.now(),
    )
    user.agency = agency
    ctx.session.add(user)
    ctx.session.flush()
    return user


def authenticate(ctx: Context, *, username: str, password: str) -> User:
    """Return the user for valid credentials, else raise AuthenticationError (one message)."""
    user = ctx.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise errors.AuthenticationError("The username or password is not right.")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def issue_token(ctx: Context, user: User) -> tuple[str, ApiToken]:
    """Issue a bearer token; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        digest=_digest(token),
        user_id=user.id,
        created_at=ctx.now(),
        expires_at=ctx.now() + TOKEN_LIFETIME,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return token, row


_TOKEN_ACTOR = (
    select(User.id, User.username, User.agency_id, Agency.code, Agency.kind, User.roles_csv)
    .join(ApiToken, ApiToken.user_id == User.id)
    .join(Agency, Agency.id == User.agency_id)
    .where(
        ApiToken.digest == bindparam("digest"),
        ApiToken.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


def actor_for_token(ctx: Context, token: str) -> Actor | None:
    """Return the actor of an active user's valid, unexpired token (one indexed query)."""
    params = {"digest": _digest(token), "now": ctx.now()}
    row = ctx.session.connection().execute(_TOKEN_ACTOR, params).first()
    if row is None:
        return None
    user_id, username, agency_id, agency_code, agency_kind, roles = row
    return Actor(
        user_id=user_id,
        username=username,
        agency_id=agency_id,
        agency_code=agency_code,
        agency_kind=agency_kind,
        roles=frozenset(r for r in roles.split(",") if r),
    )


def find_user(ctx: Context, user_id: int) -> User | None:
    """Return a user by id, or None."""
    return ctx.session.get(User, user_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
