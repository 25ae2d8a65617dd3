"""Sign in and out, CSRF, navigation, error pages and caching for the pages.

Also holds the helpers the other page tests import: sign_in, token_of, deploy_web_test, family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD, FakeClock, make_agency, make_user

BPMN_DIR = Path(__file__).resolve().parent / "bpmn"
DASH = "\N{EN DASH}"  # GOV.UK page titles use an en dash
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- helpers shared by the page tests ------------------------------------------------------


def token_of(client: FlaskClient, path: str = "/sign-in") -> str:
    """Fetch a page and return the CSRF token from its first form."""
    response = client.get(path)
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, f"no csrf token on {path} ({response.status_code})"
    return match.group(1)


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    """Sign in through the sign-in page (no JavaScript: GET the form, POST it back)."""
    token = token_of(client, "/sign-in")
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
    )


def post(client: FlaskClient, path: str, data: Mapping[str, object], page: str) -> TestResponse:
    """POST a form with the CSRF token read from `page` (as a browser would)."""
    return client.post(path, data={**data, "csrf_token": token_of(client, page)})


def deploy_web_test(app: Flask) -> None:
    """Deploy tests/web/bpmn/web_test.bpmn with its forms."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions
    from domain.processes.bundles import bundle_from_file

    with app.app_context():
        ctx = base_context(None)
        bundle = bundle_from_file(BPMN_DIR / "web_test.bpmn", BPMN_DIR)
        with unit_of_work(ctx.session):
            definitions.deploy(ctx, key=bundle.key, bpmn_files=bundle.bpmn, forms=bundle.forms)


def family(app: Flask, *people: tuple[str, str, date | None]) -> tuple[int, list[int]]:
    """Create a family with people (given name, family name, date of birth); return ids."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.families import service as families

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            fam = families.create_family(ctx, name="Test household")
            ids = [
                families.add_member(
                    ctx,
                    family_id=fam.id,
                    person=families.PersonDetails(
                        given_name=given,
                        family_name=surname,
                        sex="U" if born is None else "F",
                        date_of_birth=born,
                        is_child=None if born else False,
                    ),
                ).id
                for given, surname, born in people
            ]
            return fam.id, ids


# --- sign in -------------------------------------------------------------------------------


@pytest.fixture
def sam(app: Flask) -> str:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_user(app, "sam", ["practitioner"])
    return "sam"


def test_home_sends_visitors_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_sign_in_page(client: FlaskClient) -> None:
    response = client.get("/sign-in")
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Sign in {DASH} ThinkFamily</title>" in page
    assert page.count("<h1") == 1
    assert 'name="csrf_token"' in page
    assert 'autocomplete="current-password"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "govuk-service-navigation" not in page  # no navigation before signing in


def test_sign_in_and_out(client: FlaskClient, sam: str) -> None:
    response = sign_in(client, sam)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    with client.session_transaction() as session:
        assert "user_id" in session
        assert len(session["auth_version"]) == 16
    page = html(client.get("/tasks"))
    assert "Signed in as <strong>Sam</strong>" in page
    assert "Northshire Children&#39;s Services" in page
    assert client.get("/").headers["Location"] == "/tasks"
    assert client.get("/sign-in").status_code == 302  # already signed in

    response = post(client, "/sign-out", {}, "/tasks")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out" in html(client.get("/sign-in"))
    assert client.get("/tasks").headers["Location"].startswith("/sign-in")


def test_sign_in_failure_is_generic(client: FlaskClient, sam: str) -> None:
    wrong_password = html(sign_in(client, sam, "not the password"))
    unknown_user = html(sign_in(client, "nobody", PASSWORD))
    for page in (wrong_password, unknown_user):
        assert "Enter a correct username and password" in page
        assert f"<title>Error: Sign in {DASH} ThinkFamily</title>" in page
        assert 'href="#username"' in page
        assert "password is" not in page.lower()
    assert 'value="nobody"' in unknown_user  # the username is kept, never the password
    assert PASSWORD not in unknown_user


def test_repeated_failures_make_the_next_sign_in_wait(
    client: FlaskClient, sam: str, clock: FakeClock
) -> None:
    """Failures count the same on the page and through the API: one count per username."""
    for _ in range(3):
        assert "Enter a correct username and password" in html(sign_in(client, sam, "wrong"))
    for _ in range(2):
        refused = client.post("/api/v1/auth/token", json={"username": sam, "password": "wrong"})
        assert refused.status_code == 401
    page = html(sign_in(client, sam))  # the right password, too soon
    assert "Too many failed sign-ins with this username. Try again in 1 minute." in page
    assert 'href="#username"' in page
    assert client.get("/tasks").status_code == 302  # not signed in
    clock.advance(minutes=1)
    assert sign_in(client, sam).headers["Location"] == "/tasks"


def test_sign_in_requires_both_fields(client: FlaskClient) -> None:
    page = html(post(client, "/sign-in", {"username": "", "password": ""}, "/sign-in"))
    assert "Enter your username" in page
    assert "Enter your password" in page
    assert 'href="#password"' in page


def test_session_is_renewed_on_sign_in(client: FlaskClient, sam: str) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "fixed-token"
    response = client.post(
        "/sign-in", data={"username": sam, "password": PASSWORD, "csrf_token": "fixed-token"}
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["csrf_token"] != "fixed-token"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tasks?view=agency", "/tasks?view=agency"),
        ("/start/referral", "/start/referral"),
        ("https://evil.example/", "/tasks"),
        ("//evil.example/", "/tasks"),
        ("/\\evil.example", "/tasks"),
        ("javascript:alert(1)", "/tasks"),
        ("/sign-out", "/tasks"),
    ],
)
def test_next_only_goes_to_local_paths(
    client: FlaskClient, sam: str, target: str, expected: str
) -> None:
    token = token_of(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": sam, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.headers["Location"] == expected


def test_signed_out_page_request_redirects_with_next(client: FlaskClient) -> None:
    response = client.get("/tasks?view=agency")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Ftasks%3Fview%3Dagency"
    page = html(client.get(response.headers["Location"]))
    assert 'name="next" value="/tasks?view=agency"' in page


def test_changed_password_ends_the_session(app: Flask, client: FlaskClient, sam: str) -> None:
    from api.common.extensions import db
    from domain.users.models import User

    sign_in(client, sam)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == sam))
        assert user is not None
        user.password_hash = user.password_hash[:-4] + "abcd"
        db.session.commit()
    assert client.get("/tasks").status_code == 302


def test_sign_in_is_audited(app: Flask, client: FlaskClient, sam: str) -> None:
    from api.common.extensions import db
    from domain.audit.models import AuditEvent

    sign_in(client, sam)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.signed_in" in actions


# --- CSRF ----------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(client: FlaskClient, sam: str) -> None:
    response = client.post("/sign-in", data={"username": sam, "password": PASSWORD})
    page = html(response)
    assert response.status_code == 400
    assert "Sorry, there is a problem with your request" in page
    assert "The form you sent had expired" in page
    assert response.mimetype == "text/html"
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_post_with_wrong_csrf_token_is_refused(client: FlaskClient, sam: str) -> None:
    sign_in(client, sam)
    response = client.post("/sign-out", data={"csrf_token": "guessed"})
    assert response.status_code == 400
    assert client.get("/tasks").status_code == 200  # still signed in


def test_csrf_header_is_accepted(client: FlaskClient, sam: str) -> None:
    sign_in(client, sam)
    token = token_of(client, "/tasks")
    response = client.post("/sign-out", headers={"X-CSRF-Token": token})
    assert response.status_code == 302


def test_api_is_not_csrf_checked(client: FlaskClient, sam: str) -> None:
    response = client.post("/api/v1/auth/token", json={"username": sam, "password": PASSWORD})
    assert response.status_code == 200


# --- navigation ----------------------------------------------------------------------------


def _nav(page: str) -> list[str]:
    return re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', page)


def test_navigation_depends_on_role(app: Flask, client: FlaskClient) -> None:
    make_user(app, "prac", ["practitioner"])
    make_user(app, "boss", ["team_manager"])
    make_user(app, "owner", ["process_owner"])
    sign_in(client, "prac")
    assert _nav(html(client.get("/tasks"))) == ["/tasks", "/start", "/families"]
    post(client, "/sign-out", {}, "/tasks")
    sign_in(client, "boss")
    assert _nav(html(client.get("/tasks"))) == [
        "/tasks",
        "/start",
        "/families",
        "/dashboard",
        "/processes",
    ]
    post(client, "/sign-out", {}, "/tasks")
    sign_in(client, "owner")
    assert _nav(html(client.get("/tasks"))) == [
        "/tasks",
        "/families",
        "/dashboard",
        "/processes",
        "/api/v1/docs",
    ]


def test_navigation_marks_the_current_section(client: FlaskClient, sam: str) -> None:
    sign_in(client, sam)
    page = html(client.get("/tasks"))
    assert 'href="/tasks" aria-current="page"' in page
    assert 'href="/start" aria-current' not in page


def test_nav_items_marks_pages_inside_a_section() -> None:
    from domain.context import Actor
    from web.nav import nav_items

    actor = Actor(1, "sam", 1, "csc", "childrens_social_care", frozenset({"practitioner"}))
    items = {item["href"]: item for item in nav_items(actor, "/tasks/12")}
    assert items["/tasks"].get("active") is True
    assert "current" not in items["/tasks"]
    assert nav_items(None, "/tasks") == []


# --- error pages ---------------------------------------------------------------------------


def test_unknown_page_renders_gov_uk_404(client: FlaskClient, sam: str) -> None:
    sign_in(client, sam)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in html(response)
    assert "Signed in as" in html(response)


def test_api_errors_stay_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_unexpected_error_renders_generic_500(
    app: Flask, client: FlaskClient, sam: str, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> str:
        raise RuntimeError("secret personal detail")

    app.add_url_rule("/explode", "explode", explode)
    sign_in(client, sam)
    response = client.get("/explode")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html(response)
    assert "secret personal detail" not in html(response)
    assert "secret personal detail" not in caplog.text
    assert "RuntimeError" in caplog.text


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        ("conflict", 409, "This cannot be done at the moment"),
        ("forbidden", 403, "You do not have permission to see this page"),
        ("missing", 404, "Page not found"),
        ("invalid", 400, "Sorry, there is a problem with your request"),
    ],
)
def test_domain_errors_render_pages(
    app: Flask, client: FlaskClient, sam: str, error: str, status: int, text: str
) -> None:
    from domain import errors

    raised = {
        "conflict": errors.ConflictError("The case has moved on."),
        "forbidden": errors.PermissionDeniedError("No."),
        "missing": errors.NotFoundError("No such thing."),
        "invalid": errors.ValidationFailedError("Bad.", [{"pointer": "#/x", "detail": "Bad."}]),
    }

    def fail() -> str:
        raise raised[error]

    app.add_url_rule("/fail", "fail", fail)
    sign_in(client, sam)
    response = client.get("/fail")
    assert response.status_code == status
    assert text in html(response)
    assert response.mimetype == "text/html"
    if error == "conflict":
        assert "The case has moved on." in html(response)


def test_method_not_allowed_is_a_page(client: FlaskClient) -> None:
    response = client.put("/accessibility", headers={"X-CSRF-Token": token_of(client)})
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_accessibility_statement_is_public(client: FlaskClient) -> None:
    response = client.get("/accessibility")
    assert response.status_code == 200
    assert "Accessibility statement" in html(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_cacheable(client: FlaskClient) -> None:
    response = client.get("/static/css/thinkfamily.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


# --- dates ---------------------------------------------------------------------------------


def test_uk_dates() -> None:
    from datetime import UTC, datetime

    from web import dates

    assert dates.uk_date(datetime(2026, 12, 30, 12, tzinfo=UTC)) == "Wednesday 30 December 2026"
    assert dates.uk_date(date(2027, 3, 3)) == "Wednesday 3 March 2027"
    # 23:30 UTC in summer is the next day in London
    assert dates.uk_date(datetime(2027, 6, 30, 23, 30, tzinfo=UTC)) == "Thursday 1 July 2027"
    assert dates.uk_short_date(date(2027, 3, 3)) == "3 March 2027"
    assert dates.uk_datetime(datetime(2026, 12, 30, 17, 30, tzinfo=UTC)) == (
        "5:30pm on Wednesday 30 December 2026"
    )
    assert dates.uk_time(datetime(2026, 12, 30, 12, tzinfo=UTC)) == "midday"
    assert dates.uk_date(None) == ""
    with pytest.raises(ValueError, match="naive"):
        dates.uk_date(datetime(2026, 1, 1))  # noqa: DTZ001


def test_due_tags() -> None:
    from datetime import UTC, datetime

    from engine.workdays import calendar_with
    from web import dates

    calendar = calendar_with()
    now = datetime(2026, 12, 21, 10, tzinfo=UTC)  # Monday 21 December 2026
    assert dates.due_tag(None, now, calendar) is None
    assert dates.due_tag(datetime(2026, 12, 21, 9, tzinfo=UTC), now, calendar) == (
        "Overdue",
        "govuk-tag--red",
    )
    soon = calendar.add_working_days(now, 2)  # close of Wednesday 23 December
    assert dates.due_tag(soon, now, calendar) == ("Due soon", "govuk-tag--yellow")
    later = calendar.add_working_days(now, 3)
    assert dates.uk_date(later) == "Thursday 24 December 2026"
    assert dates.due_tag(later, now, calendar) is None


def test_a_page_session_expires_after_two_hours_without_use(
    app: Flask, client: FlaskClient, sam: str
) -> None:
    sign_in(client, sam)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.expires is not None
    assert app.permanent_session_lifetime.total_seconds() == 2 * 3600
