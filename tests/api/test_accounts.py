"""Ending access: an API client signs out; an admin resets a password or deactivates a leaver.

Each ends the user's API tokens and page sessions at once, and is audited.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.common.extensions import db
from domain.audit.models import AuditEvent
from domain.users.models import ApiToken, User
from tests.api.test_auth_api import (
    SECRET_PASSWORD,
    TOKEN,
    bearer,
    fail,
    pat,
    sign_in,
)
from tests.api.test_definitions_api import DEFINITIONS, assert_problem, json_of
from tests.conftest import PASSWORD, FakeClock, make_agency
from tests.web.test_session_pages import sign_in as page_sign_in

__all__ = ["pat"]  # shared fixtures, re-exported for pytest
NEW_PASSWORD = "a brand new password 7"


def token(client: FlaskClient, password: str = PASSWORD) -> str:
    response = sign_in(client, "pat", password)
    assert response.status_code == 200, response.get_data(as_text=True)
    value: str = json_of(response)["access_token"]
    return value


def works(client: FlaskClient, value: str) -> bool:
    status = client.get(DEFINITIONS, headers=bearer(value)).status_code
    assert status in (200, 401)
    return status == 200


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_signing_out_revokes_only_that_token(app: Flask, client: FlaskClient, pat: str) -> None:
    first, second = token(client), token(client)
    assert client.delete(TOKEN, headers=bearer(first)).status_code == 204
    assert not works(client, first)
    assert works(client, second)
    assert_problem(client.delete(TOKEN, headers=bearer(first)), 401)
    assert_problem(client.delete(TOKEN), 401)
    assert actions(app)[-1] == "user.signed_out"


def test_expired_tokens_are_dropped_when_the_user_next_signs_in(
    app: Flask, client: FlaskClient, pat: str, clock: FakeClock
) -> None:
    token(client)
    token(client)
    clock.advance(hours=12)
    fresh = token(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    assert works(client, fresh)


def test_a_password_reset_ends_every_session_and_clears_the_wait(
    app: Flask, client: FlaskClient, pat: str
) -> None:
    api_token = token(client)
    page = app.test_client()
    assert page_sign_in(page, "pat").status_code == 302
    assert page.get("/tasks").status_code == 200
    fail(client, "pat", 5)
    assert_problem(sign_in(client, "pat"), 429)

    code, output = cli(app, "set-password", "--username", "pat", "--password", NEW_PASSWORD)
    assert code == 0, output
    assert NEW_PASSWORD not in output
    assert not works(client, api_token)
    assert page.get("/tasks").status_code == 302  # back to sign in
    assert_problem(sign_in(client, "pat", PASSWORD), 401)
    assert works(client, token(client, NEW_PASSWORD))  # no wait after a reset
    assert "user.password_set" in actions(app)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "pat", "--password", "short"], "The password is too short."),
        (["--username", "pat", "--password", "x" * 201], "The password is too long."),
        (["--username", "nobody", "--password", NEW_PASSWORD], "No user with that username."),
    ],
)
def test_a_password_reset_that_cannot_be_done_changes_nothing(
    app: Flask, client: FlaskClient, pat: str, args: list[str], message: str
) -> None:
    api_token = token(client)
    code, output = cli(app, "set-password", *args)
    assert code != 0
    assert message in output
    assert works(client, api_token)
    assert works(client, token(client))


def test_a_deactivated_user_is_stopped_at_once_and_can_come_back(
    app: Flask, client: FlaskClient, pat: str
) -> None:
    api_token = token(client)
    page = app.test_client()
    assert page_sign_in(page, "pat").status_code == 302

    code, output = cli(app, "deactivate-user", "--username", "pat")
    assert code == 0, output
    assert not works(client, api_token)
    assert page.get("/tasks").status_code == 302
    assert_problem(sign_in(client, "pat"), 401)
    assert cli(app, "deactivate-user", "--username", "pat")[0] == 0  # already: nothing changes

    code, output = cli(app, "reactivate-user", "--username", "pat")
    assert code == 0, output
    assert not works(client, api_token)  # revoked tokens stay revoked
    assert works(client, token(client))
    assert [a for a in actions(app) if a.startswith("user.") and "activated" in a] == [
        "user.deactivated",
        "user.reactivated",
    ]
    assert SECRET_PASSWORD not in output


@pytest.mark.parametrize("username", [" pat2", "pat2 ", "x" * 81, "tab\there", ""])
def test_a_username_that_could_not_be_typed_back_is_refused(app: Flask, username: str) -> None:
    make_agency(app, "csc", "childrens_social_care")
    code, output = cli(
        app,
        "create-user",
        "--username",
        username,
        "--password",
        NEW_PASSWORD,
        "--role",
        "practitioner",
        "--agency",
        "csc",
    )
    assert code != 0
    assert "The username is not valid." in output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_the_longest_username_and_password_sign_in_on_the_page(app: Flask) -> None:
    make_agency(app, "csc", "childrens_social_care")
    username, password = "u" * 80, "p" * 200
    code, output = cli(
        app,
        "create-user",
        "--username",
        username,
        "--password",
        password,
        "--role",
        "practitioner",
        "--agency",
        "csc",
    )
    assert code == 0, output
    assert page_sign_in(app.test_client(), username, password).status_code == 302
