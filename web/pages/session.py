"""Pages: sign in and out, the page-wide set-up (CSRF, current user, navigation, date filters,
error pages, no-store caching) and helpers the other page modules share.

Routes: GET / · GET, POST /sign-in · POST /sign-out · GET /accessibility.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from api.common.auth import current_actor
from api.common.context import base_context, command_context, services
from api.common.extensions import db
from api.common.problems import (
    CLASH,
    RETRY_AFTER,
    UNAVAILABLE,
    is_busy,
    own_headers,
    where,
)
from domain import errors
from domain.audit import service as audit
from domain.context import Actor, Context
from domain.db import unit_of_work
from domain.lanes import LANES
from domain.users import service as users
from domain.users.models import User
from engine.workdays import WorkingCalendar
from web import dates
from web.csrf import CSRFError, init_csrf, rotate_csrf_token
from web.nav import nav_items
from web.resend import form_token

bp = Blueprint("pages_session", __name__)
log = logging.getLogger("thinkfamily.web")

API_PREFIX = "/api/"
HOME = "/tasks"
SIGN_IN = "/sign-in"
USERNAME_MAX = users.USERNAME_MAX
PASSWORD_MAX = users.PASSWORD_MAX
SIGN_IN_FAILED = "Enter a correct username and password"
CONFLICT_TITLE = "This cannot be done at the moment"


# --- the signed-in user --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in user as templates see them (`current_user`)."""

    user_id: int
    username: str
    display_name: str
    agency_name: str
    agency_code: str
    roles: frozenset[str]
    is_authenticated: bool = True


def page_actor() -> Actor:
    """Return the signed-in actor, or raise AuthenticationError (pages redirect to sign-in)."""
    actor = current_actor()
    if actor is None:
        raise errors.AuthenticationError("Sign in first.")
    return actor


def page_context() -> Context:
    """Return the command context of the signed-in user (raises AuthenticationError if none)."""
    page_actor()
    return command_context()


def actor_of(ctx: Context) -> Actor:
    """Return the context's actor (pages always have one; raises AuthenticationError if not)."""
    if ctx.actor is None:
        raise errors.AuthenticationError("Sign in first.")
    return ctx.actor


def require_role(*roles: str) -> Actor:
    """Return the signed-in actor if they hold any of the roles, else raise PermissionDenied."""
    actor = page_actor()
    if not actor.has_role(*roles):
        raise errors.PermissionDeniedError("Your role does not allow this.")
    return actor


def current_user() -> CurrentUser | None:
    """Return the signed-in user's names for the page header, or None (cached on g)."""
    if "tf_current_user" in g:
        return cast(CurrentUser | None, g.tf_current_user)
    actor = current_actor()
    found: CurrentUser | None = None
    if actor is not None:
        user = db.session().get(User, actor.user_id)
        if user is not None:
            found = CurrentUser(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                agency_name=user.agency.name,
                agency_code=user.agency.code,
                roles=user.roles,
            )
    g.tf_current_user = found
    return found


def page_now() -> datetime:
    """Return the current instant from the app's (injectable) clock."""
    clock = cast(Callable[[], datetime], services()["clock"])
    return clock()


def page_calendar() -> WorkingCalendar:
    """Return the working calendar for this request (cached on g)."""
    if "tf_calendar" not in g:
        g.tf_calendar = base_context(None).calendar
    return cast(WorkingCalendar, g.tf_calendar)


def due_tag_now(due_at: datetime | None) -> tuple[str, str] | None:
    """Template global: the Overdue / Due soon tag for a due instant, as of now."""
    return dates.due_tag(due_at, page_now(), page_calendar())


def safe_next(target: str | None, default: str = HOME) -> str:
    """Return `target` if it is a local path on this site, else `default` (open-redirect guard)."""
    if not target or len(target) > 500:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if parts.path in (SIGN_IN, "/sign-out"):
        return default
    return target


def notify(kind: str, heading: str, text: str = "", href: str = "", link_text: str = "") -> None:
    """Queue a notification banner for the next page (kind: success or important)."""
    note: Any = {"heading": heading, "text": text, "href": href, "link_text": link_text}
    flash(note, kind)  # the session serialiser keeps the dict; Flask's stub says str


# --- set-up --------------------------------------------------------------------------------


def setup(app: Flask) -> None:
    """Install CSRF, the page template context, date filters, error pages and no-store caching."""
    init_csrf(app)
    app.context_processor(_page_globals)
    app.jinja_env.filters["uk_date"] = dates.uk_date
    app.jinja_env.filters["uk_short_date"] = dates.uk_short_date
    app.jinja_env.filters["uk_datetime"] = dates.uk_datetime
    app.jinja_env.filters["iso_date"] = dates.iso_date
    app.jinja_env.globals["due_tag"] = due_tag_now
    app.jinja_env.globals["form_token"] = form_token
    # diagrams name lanes by role code; the viewers show each lane's title instead
    app.jinja_env.globals["lane_titles"] = {lane.name: lane.title for lane in LANES.values()}
    app.after_request(_no_store)
    _install_error_pages(app)


def _page_globals() -> dict[str, Any]:
    if not has_request_context() or g.get("tf_minimal_page"):
        return {"current_user": None, "nav_items": []}
    actor = current_actor()
    return {
        "current_user": current_user(),
        "nav_items": nav_items(actor, request.path),
        "sign_out_url": "/sign-out",
    }


def _no_store(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


# --- error pages ---------------------------------------------------------------------------


def _install_error_pages(app: Flask) -> None:
    """Wrap every registered error handler: /api/ keeps its problem+json, pages get GOV.UK pages.

    Runs after the REST layer registered its handlers, so each class keeps its API behaviour.
    """
    handlers: dict[type[Exception], Any] = dict(app.error_handler_spec[None][None])
    wanted: tuple[type[Exception], ...] = (
        errors.DomainError,
        StaleDataError,
        IntegrityError,
        OperationalError,
        HTTPException,
        Exception,
    )
    for wanted_class in wanted:
        handlers.setdefault(wanted_class, None)
    for exc_class, original in handlers.items():
        app.register_error_handler(exc_class, _dispatcher(original))


def _dispatcher(
    original: Callable[[Any], ResponseReturnValue] | None,
) -> Callable[[Exception], ResponseReturnValue]:
    def handle(error: Exception) -> ResponseReturnValue:
        if original is not None and request.path.startswith(API_PREFIX):
            return original(error)
        return page_error(error)

    return handle


def page_error(error: Exception) -> ResponseReturnValue:
    """Render a GOV.UK error page (or redirect to sign in) for an error raised by a page."""
    if isinstance(error, errors.AuthenticationError) or (
        isinstance(error, HTTPException) and error.code == 401
    ):
        return _to_sign_in()
    if isinstance(error, CSRFError):
        return _error_page(400, message=str(error.description))
    if isinstance(error, HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code >= 500:
            return _unexpected(error)
        page, status = _error_page(error.code)
        return page, status, own_headers(error)
    if isinstance(error, errors.ValidationFailedError):
        return _error_page(400)
    if isinstance(error, errors.ConflictError):
        return _error_page(409, title=CONFLICT_TITLE, message=error.detail)
    if isinstance(error, errors.DomainError):
        return _error_page(error.status if error.status in (403, 404) else 400)
    if isinstance(error, StaleDataError):
        db.session.rollback()
        return _error_page(409, message="Someone else changed this record. Reload and try again.")
    if isinstance(error, IntegrityError):
        db.session.rollback()
        log.warning("page write refused by a database constraint at %s", where(error))
        return _error_page(409, message=CLASH)
    if isinstance(error, OperationalError):
        return _database_error(error)
    return _unexpected(error)


def _database_error(error: OperationalError) -> ResponseReturnValue:
    if is_busy(error):
        db.session.rollback()
        return _error_page(409, message="Someone else is changing this record. Try again.")
    log.error(
        "page database unavailable (%s) on %s %s at %s",
        type(error.orig).__name__,
        request.method,
        request.url_rule,
        where(error),
    )
    g.tf_minimal_page = True  # the page's own data cannot be read either
    page, status = _error_page(503, message=UNAVAILABLE)
    return page, status, {"Retry-After": RETRY_AFTER}


def _to_sign_in() -> Response:
    target = SIGN_IN
    if request.method == "GET":
        wanted = safe_next(request.full_path.rstrip("?"), default="")
        if wanted and wanted != HOME:
            target += "?" + urlencode({"next": wanted})
    return redirect(target)


def _error_page(status: int, *, title: str = "", message: str = "") -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def _unexpected(error: Exception) -> ResponseReturnValue:
    # ids and code locations only: never the message, which may hold personal data
    log.error(
        "page error %s on %s %s at %s",
        type(error).__name__,
        request.method,
        request.url_rule,
        where(error),
    )
    db.session.rollback()
    g.tf_minimal_page = True
    return _error_page(500)


# --- routes --------------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    """Send signed-in users to their tasks and everyone else to sign in."""
    return redirect(HOME if current_actor() is not None else SIGN_IN)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """Sign in with a username and password (the session is cleared and renewed on success)."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_actor() is not None:
            return redirect(target)
        return render_template("session/sign_in.html", next=target, errors=[], username="")
    username = request.form.get("username", "").strip()[:USERNAME_MAX]
    password = request.form.get("password", "")[:PASSWORD_MAX]
    problems: list[dict[str, str]] = []
    if not username:
        problems.append({"field": "username", "message": "Enter your username"})
    if not password:
        problems.append({"field": "password", "message": "Enter your password"})
    if not problems:
        signed_in = _check_sign_in(username, password, problems)
        if signed_in is not None:
            session.clear()  # no fixation: nothing from before sign-in survives
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without use
            session["user_id"], session["auth_version"] = signed_in
            rotate_csrf_token()
            g.pop("actor", None)
            g.pop("tf_current_user", None)
            return redirect(target)
    page = render_template("session/sign_in.html", next=target, errors=problems, username=username)
    return page, 200


def _check_sign_in(
    username: str, password: str, problems: list[dict[str, str]]
) -> tuple[int, str] | None:
    """The user id and password version for right credentials; else a problem is added."""
    ctx = base_context(None)
    try:
        with unit_of_work(ctx.session):  # a refusal is committed too: it counts towards a wait
            user = users.check_sign_in(ctx, username=username, password=password)
            if user is not None:
                ctx.actor = users.actor_of(user)
                audit.record(ctx, "user.signed_in", ("user", user.id), via="page")
                return user.id, user.password_hash[-16:]
    except errors.SignInThrottledError as throttled:
        log.info("page sign-in refused: too many failures")
        problems.append({"field": "username", "message": throttled.detail})
        return None
    log.info("page sign-in refused")
    problems.append({"field": "username", "message": SIGN_IN_FAILED})
    return None


@bp.post("/sign-out")
def sign_out() -> Response:
    """Forget the session and go back to the sign-in page."""
    actor = current_actor()
    if actor is not None:
        ctx = base_context(actor)
        with unit_of_work(ctx.session):
            audit.record(ctx, "user.signed_out", ("user", actor.user_id), via="page")
    session.clear()
    g.pop("actor", None)
    notify("success", "You have signed out")
    return redirect(SIGN_IN)


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement (open to everyone)."""
    return render_template("accessibility.html")


def sign_in_url_for(path: str) -> str:
    """Return the sign-in URL that comes back to `path` afterwards."""
    return url_for("pages_session.sign_in", next=safe_next(path))
