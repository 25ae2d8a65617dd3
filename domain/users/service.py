"""Create users, check passwords (argon2) and issue bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain import errors
from domain.agencies.models import Agency
from domain.audit import service as audit
from domain.context import Actor, Context
from domain.db import first_writer_wins, table_of
from domain.lanes import ROLES
from domain.users.models import ApiToken, SignInFailures, User

PRODUCTION_HASHER = PasswordHasher()
"""argon2id at the library's recommended cost (RFC 9106's second recommended option)."""
_HASHER = PRODUCTION_HASHER
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
TOKEN_LIFETIME = timedelta(hours=12)


def display_names(ctx: Context, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Map user ids to display names (one query)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


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
    _check_username(username)
    _check_password(password)
    agency = ctx.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise errors.NotFoundError("No agency with that code.")
    taken = errors.ConflictError("That username is taken.")
    if ctx.session.scalar(select(User).where(User.username == username)) is not None:
        raise taken
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
    with first_writer_wins(taken):
        ctx.session.flush()
    return user


USERNAME_MAX = 80  # the column's width
PASSWORD_MIN, PASSWORD_MAX = 10, 200  # the sign-in page takes no more than PASSWORD_MAX


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise errors.ValidationFailedError(
            "The password is too short.",
            [{"pointer": "#/password", "detail": f"Use at least {PASSWORD_MIN} characters."}],
        )
    if len(password) > PASSWORD_MAX:
        raise errors.ValidationFailedError(
            "The password is too long.",
            [{"pointer": "#/password", "detail": f"Use at most {PASSWORD_MAX} characters."}],
        )


def _check_username(username: str) -> None:
    """A username fits its column and reads the same typed anywhere (the page trims spaces)."""
    if not username or len(username) > USERNAME_MAX or username != username.strip():
        detail = f"Use 1 to {USERNAME_MAX} characters, with no space at either end."
    elif not username.isprintable():
        detail = "Use only printable characters."
    else:
        return
    raise errors.ValidationFailedError(
        "The username is not valid.", [{"pointer": "#/username", "detail": detail}]
    )


def _user_named(ctx: Context, username: str) -> User:
    user = ctx.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise errors.NotFoundError("No user with that username.")
    return user


def set_password(ctx: Context, *, username: str, password: str) -> User:
    """Give a user a new password (an admin's reset, say) and sign them out everywhere.

    Their API tokens are revoked and their page sessions end (a session is bound to the
    password it signed in with); failed sign-ins counted against the username are cleared.
    """
    _check_password(password)
    user = _user_named(ctx, username)
    user.password_hash = _HASHER.hash(password)
    _revoke_all(ctx, user)
    ctx.session.execute(delete(_FAILURES).where(_FAILURES.c.username_digest == _digest(username)))
    audit.record(ctx, "user.password_set", ("user", user.id))
    return user


def set_active(ctx: Context, *, username: str, active: bool) -> User:
    """Let a user sign in again, or stop them (a leaver, say) at once.

    A deactivated user's API tokens are revoked and their page sessions end with their next
    request; their records and audit trail stay.
    """
    user = _user_named(ctx, username)
    if user.active != active:
        user.active = active
        if not active:
            _revoke_all(ctx, user)
        audit.record(ctx, "user.reactivated" if active else "user.deactivated", ("user", user.id))
    return user


def _revoke_all(ctx: Context, user: User) -> None:
    ctx.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def revoke_token(ctx: Context, token: str) -> bool:
    """Revoke one bearer token (an API client signing out); False if it was already gone."""
    revoked = ctx.session.execute(delete(ApiToken).where(ApiToken.digest == _digest(token)))
    return cast(CursorResult[Any], revoked).rowcount == 1


@dataclass(frozen=True)
class SignInThrottle:
    """How failed sign-ins with one username slow further tries (password guessing).

    The first `free_failures` in a row cost nothing. Each one after that makes the next try
    wait, `first_wait` at first and twice as long each time, up to `longest_wait`. A sign-in
    that succeeds, or a day without failures, starts the count again. The same holds for a
    username that belongs to nobody, so the waits say nothing about which usernames exist.
    """

    free_failures: int = 5
    first_wait: timedelta = timedelta(minutes=1)
    longest_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)

    def wait_after(self, failures: int) -> timedelta | None:
        """How long the next try must wait after this many failures in a row."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 16)
        return min(self.first_wait * (1 << doublings), self.longest_wait)


SIGN_IN_THROTTLE = SignInThrottle()
_FAILURES = table_of(SignInFailures)


def check_sign_in(ctx: Context, *, username: str, password: str) -> User | None:
    """The active user these credentials belong to, or None when they are not right.

    A refusal is counted against the username in `ctx.session`: commit it before answering,
    so it stands. While the username must wait, raise SignInThrottledError without checking
    the password at all. Tries with one username take turns (the row is locked), so a burst
    of parallel guesses cannot slip past the count.
    """
    now = ctx.now()
    key = _digest(username)
    failures = _failures_locked(ctx, key, now)
    if failures.locked_until is not None and failures.locked_until > now:
        raise errors.SignInThrottledError(failures.locked_until - now)
    account = ctx.session.scalar(
        select(User).where(User.username == username, User.active.is_(True))
    )
    try:
        _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
        user = account
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        recent = failures.last_failed_at is not None and (
            now - failures.last_failed_at < SIGN_IN_THROTTLE.forget_after
        )
        count = failures.failures + 1 if recent else 1
        wait = SIGN_IN_THROTTLE.wait_after(count)
        ctx.session.execute(
            update(_FAILURES)
            .where(_FAILURES.c.username_digest == key)
            .values(failures=count, last_failed_at=now, locked_until=now + wait if wait else None)
        )
        if account is not None:  # someone's account: its owner and admins should know
            waits = int(wait.total_seconds()) if wait else 0
            audit.record(
                ctx, "user.sign_in_refused", ("user", account.id), failures=count, wait=waits
            )
        return None
    ctx.session.execute(delete(_FAILURES).where(_FAILURES.c.username_digest == key))
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def _failures_locked(ctx: Context, key: str, now: datetime) -> Any:
    """The username's failure row, created if need be and locked until the unit of work ends.

    Rows untouched for a day are dropped on the way, so what was typed as a username (a
    password, by mistake) is not kept, even as a digest.
    """
    session = ctx.session
    stale = now - SIGN_IN_THROTTLE.forget_after
    session.execute(delete(_FAILURES).where(_FAILURES.c.last_failed_at < stale))
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(_FAILURES)
        .values(username_digest=key, failures=0, last_failed_at=None, locked_until=None)
        .on_conflict_do_nothing(index_elements=["username_digest"])
    )
    return session.execute(
        select(_FAILURES).where(_FAILURES.c.username_digest == key).with_for_update()
    ).one()


def issue_token(ctx: Context, user: User) -> tuple[str, ApiToken]:
    """Issue a bearer token; only its digest is stored. The user's expired tokens are dropped."""
    ctx.session.execute(
        delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= ctx.now())
    )
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
