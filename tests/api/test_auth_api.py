"""POST /api/v1/auth/token and bearer tokens: issue, refuse, expire after 12 hours."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from api.common.extensions import db
from domain.audit.models import AuditEvent
from domain.users.models import User
from tests.api.test_definitions_api import (
    DEFINITIONS,
    PERSON,
    assert_problem,
    json_of,
    pointers,
)
from tests.conftest import PASSWORD, FakeClock, make_user

TOKEN = "/api/v1/auth/token"
THREADS = 12
SECRET_PASSWORD = f"{PERSON} secret 42"


@pytest.fixture
def pat(app: Flask) -> str:
    make_user(app, "pat", ["practitioner"])
    return "pat"


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(TOKEN, json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_is_issued_for_good_credentials(
    client: FlaskClient, pat: str, clock: FakeClock
) -> None:
    response = sign_in(client, pat)

    assert response.status_code == 200
    body = json_of(response)
    assert set(body) == {"access_token", "token_type", "expires_at"}
    assert body["token_type"] == "Bearer"
    assert len(body["access_token"]) >= 32
    assert datetime.fromisoformat(body["expires_at"]) == clock.now + timedelta(hours=12)
    assert client.get(DEFINITIONS, headers=bearer(body["access_token"])).status_code == 200


PRODUCTION_COST = "$argon2id$v=19$m=65536,t=3,p=4$"


def stored_hash(app: Flask, username: str) -> str:
    with app.app_context():
        return str(
            db.session.scalars(select(User.password_hash).filter_by(username=username)).one()
        )


@pytest.mark.real_password_hashing
def test_passwords_are_stored_as_argon2id_at_the_production_cost(app: Flask, pat: str) -> None:
    stored = stored_hash(app, pat)
    assert stored.startswith(PRODUCTION_COST)
    assert PASSWORD not in stored


@pytest.mark.real_password_hashing
def test_a_password_hashed_at_a_lower_cost_is_rehashed_at_the_next_sign_in(
    app: Flask, client: FlaskClient, pat: str
) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.execute(text("UPDATE users SET password_hash = :h"), {"h": weak})
        db.session.commit()

    assert sign_in(client, pat).status_code == 200
    assert stored_hash(app, pat).startswith(PRODUCTION_COST)
    assert sign_in(client, pat).status_code == 200


def test_the_suite_hashes_passwords_at_the_least_cost_unless_marked(app: Flask, pat: str) -> None:
    assert stored_hash(app, pat).startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_each_sign_in_gets_a_new_token(client: FlaskClient, pat: str) -> None:
    first = json_of(sign_in(client, pat))["access_token"]
    second = json_of(sign_in(client, pat))["access_token"]
    assert first != second


@pytest.mark.parametrize(
    ("username", "password"),
    [("pat", SECRET_PASSWORD), ("nobody", SECRET_PASSWORD), ("PAT", PASSWORD), ("pat", "")],
)
def test_bad_credentials_are_401_and_say_the_same(
    client: FlaskClient, pat: str, caplog: pytest.LogCaptureFixture, username: str, password: str
) -> None:
    caplog.set_level(logging.DEBUG)
    response = sign_in(client, username, password)

    body = assert_problem(response, 401, code="unauthenticated", secrets=(SECRET_PASSWORD,))
    assert body["detail"] == "The username or password is not right."
    assert SECRET_PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"username": "pat"}, ["#/password"]),
        ({"password": SECRET_PASSWORD}, ["#/username"]),
        ({}, ["#/password", "#/username"]),
        ({"username": 5, "password": SECRET_PASSWORD}, ["#/username"]),
        ({"username": "pat", "password": ["x"]}, ["#/password"]),
        ({"username": "pat", "password": SECRET_PASSWORD, "remember": True}, ["#/remember"]),
    ],
)
def test_token_request_names_each_invalid_field(
    client: FlaskClient, pat: str, body: dict[str, Any], expected: list[str]
) -> None:
    response = client.post(TOKEN, json=body)
    problem = assert_problem(response, 422, code="invalid-body", secrets=(SECRET_PASSWORD,))
    assert pointers(problem) == expected


def test_token_request_that_is_not_json_is_refused(client: FlaskClient, pat: str) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(TOKEN, data="username=pat", content_type=content_type)
        assert assert_problem(response, 415)["code"] == "unsupported-media-type"
    broken = client.post(TOKEN, data='{"username": ', content_type="application/json")
    assert broken.status_code in (400, 422)
    assert_problem(broken, broken.status_code)


def test_token_expires_after_12_hours(client: FlaskClient, pat: str, clock: FakeClock) -> None:
    token = json_of(sign_in(client, pat))["access_token"]

    clock.advance(hours=11, minutes=59)
    assert client.get(DEFINITIONS, headers=bearer(token)).status_code == 200

    clock.advance(minutes=1, seconds=1)
    body = assert_problem(client.get(DEFINITIONS, headers=bearer(token)), 401)
    assert body["code"] == "unauthenticated"
    fresh = json_of(sign_in(client, pat))["access_token"]
    assert client.get(DEFINITIONS, headers=bearer(fresh)).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-real-token",
        "Bearer ",
        "Bearer",
        "bearer x y z",
        "Basic cGF0OmNvcnJlY3QgaG9yc2U=",
        "Token abc",
        "",
    ],
)
def test_invalid_tokens_are_401(client: FlaskClient, pat: str, header: str) -> None:
    response = client.get(DEFINITIONS, headers={"Authorization": header})
    assert_problem(response, 401, code="unauthenticated")


def test_a_token_is_not_accepted_in_the_query_string(client: FlaskClient, pat: str) -> None:
    token = json_of(sign_in(client, pat))["access_token"]
    response = client.get(DEFINITIONS, query_string={"access_token": token})
    assert_problem(response, 401)


# -- throttling password guessing ------------------------------------------------------------


def fail(client: FlaskClient, username: str, times: int) -> None:
    for _ in range(times):
        assert_problem(sign_in(client, username, SECRET_PASSWORD), 401, code="unauthenticated")


def assert_must_wait(client: FlaskClient, username: str, seconds: int) -> None:
    response = sign_in(client, username)  # the right password changes nothing while waiting
    body = assert_problem(response, 429, code="too-many-sign-in-attempts")
    minutes = -(-seconds // 60)
    assert body["detail"] == (
        "Too many failed sign-ins with this username. "
        f"Try again in {minutes} minute{'' if minutes == 1 else 's'}."
    )
    assert response.headers["Retry-After"] == str(seconds)


@pytest.mark.parametrize("username", ["pat", "nobody"])
def test_failed_sign_ins_make_the_next_try_wait_longer_each_time(
    app: Flask, client: FlaskClient, pat: str, clock: FakeClock, username: str
) -> None:
    """The same for a username nobody has, so the waits do not tell which usernames exist."""
    fail(client, username, 5)
    assert_must_wait(client, username, 60)
    clock.advance(seconds=59)
    assert_must_wait(client, username, 1)
    for wait in (120, 240, 480, 900, 900):
        clock.advance(seconds=61 if wait == 120 else wait // 2 + 1)
        fail(client, username, 1)
        assert_must_wait(client, username, wait)
        clock.advance(seconds=wait // 2 - 1)
    make_user(app, "sam", ["practitioner"])
    assert sign_in(client, "sam").status_code == 200  # others are not held up


def test_a_good_sign_in_or_a_quiet_day_starts_the_count_again(
    client: FlaskClient, pat: str, clock: FakeClock
) -> None:
    fail(client, "pat", 4)
    assert sign_in(client, "pat").status_code == 200
    fail(client, "pat", 4)
    clock.advance(hours=24)
    fail(client, "pat", 4)
    assert sign_in(client, "pat").status_code == 200
    fail(client, "pat", 5)
    assert_must_wait(client, "pat", 60)
    clock.advance(minutes=1)
    assert sign_in(client, "pat").status_code == 200
    fail(client, "pat", 4)  # counted from nothing again: no wait yet
    assert sign_in(client, "pat").status_code == 200


def test_refusals_for_an_account_are_audited(app: Flask, client: FlaskClient, pat: str) -> None:
    fail(client, "pat", 5)
    fail(client, "nobody", 2)
    sign_in(client, "pat")  # too soon: refused without a check, so not a new failure
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.subject_id, AuditEvent.details).where(
                AuditEvent.action == "user.sign_in_refused"
            )
        ).all()
        pat_id = db.session.scalar(select(User.id).where(User.username == "pat"))
    assert [(r.subject_id, r.details) for r in rows] == [
        (str(pat_id), {"failures": n, "wait": 60 if n == 5 else 0}) for n in range(1, 6)
    ]


def test_what_was_typed_as_a_username_is_not_kept(
    app: Flask, client: FlaskClient, pat: str, clock: FakeClock
) -> None:
    fail(client, SECRET_PASSWORD, 2)  # a password typed into the username box, say
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM sign_in_failures")).all()
        assert len(rows) == 1
        assert SECRET_PASSWORD not in str(rows)
        clock.advance(hours=24, seconds=1)
    sign_in(client, "pat")
    with app.app_context():
        assert db.session.execute(text("SELECT * FROM sign_in_failures")).all() == []


def test_a_burst_of_parallel_guesses_gets_five_tries_only(
    app: Flask, client: FlaskClient, pat: str
) -> None:
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def guess() -> None:
        own_client = app.test_client()
        barrier.wait(timeout=30)
        statuses.append(sign_in(own_client, "pat", SECRET_PASSWORD).status_code)

    threads = [threading.Thread(target=guess) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [401] * 5 + [429] * (THREADS - 5)
