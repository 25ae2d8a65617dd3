"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), the app with an injected clock, users and tokens."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Hash passwords at argon2's least cost: the suite creates thousands of users.

    Tests marked `real_password_hashing` get the production hasher back.
    """
    from argon2 import PasswordHasher

    from domain.users import service as users_service

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            users_service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield


@pytest.fixture(autouse=True)
def _real_password_hashing_when_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("real_password_hashing") is not None:
        from domain.users import service as users_service

        monkeypatch.setattr(users_service, "_HASHER", users_service.PRODUCTION_HASHER)


class FakeClock:
    """A settable clock shared by the app, the engine and the calendar."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, iso: str) -> None:
        """Jump to an ISO instant (with offset)."""
        self.now = datetime.fromisoformat(iso)

    def advance(self, **kwargs: float) -> None:
        """Move forward by a timedelta."""
        self.now += timedelta(**kwargs)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from api.app import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        upgrade()
        from api.common.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str | None:
    if not PG_URL:
        return None
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(PG_URL)
    return PG_URL


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables"
                " WHERE schemaname='public' AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, pg_migrated: str | None) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if pg_migrated:
        _truncate_pg(pg_migrated)
        yield pg_migrated
        return
    path = tmp_path / "test.sqlite"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 21, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SESSION_COOKIE_SECURE": False,
        "SMTP_PORT": 0,
    }


@pytest.fixture
def app(settings: dict[str, Any], clock: FakeClock) -> Iterator[Flask]:
    from api.app import create_app
    from api.common.extensions import db

    application = create_app(settings, clock=clock)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_agency(app: Flask, code: str, kind: str, name: str | None = None) -> None:
    """Create an agency (idempotent)."""
    from api.common.context import base_context
    from domain.agencies import service as agencies
    from domain.db import unit_of_work

    with app.app_context():
        ctx = base_context(None)
        if agencies.find_agency(ctx, code) is None:
            with unit_of_work(ctx.session):
                agencies.create_agency(
                    ctx,
                    code=code,
                    name=name or code,
                    kind=kind,
                    notification_email=f"{code}@example.org",
                )


def make_user(
    app: Flask,
    username: str,
    roles: list[str],
    agency: str = "csc",
    kind: str = "childrens_social_care",
) -> None:
    """Create a user (and its agency if missing)."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.users import service as users

    make_agency(app, agency, kind)
    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            users.create_user(
                ctx,
                username=username,
                password=PASSWORD,
                roles=roles,
                agency_code=agency,
                display_name=username.title(),
                email=f"{username}@example.org",
            )


def token_for(client: FlaskClient, username: str) -> dict[str, str]:
    """Sign in through the API and return the Authorization header."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}  # type: ignore[index]


def deploy_shipped(app: Flask, *keys: str) -> None:
    """Deploy shipped workflows (all when no key is given) as the CLI does."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions
    from domain.processes.bundles import bundle_from_file, bundles_from_folder

    with app.app_context():
        ctx = base_context(None)
        if keys:
            bundles = [
                bundle_from_file(ROOT / "workflows" / f"{k}.bpmn", ROOT / "forms") for k in keys
            ]
        else:
            bundles = bundles_from_folder(ROOT / "workflows", ROOT / "forms")
        for bundle in bundles:
            with unit_of_work(ctx.session):
                definitions.deploy(ctx, key=bundle.key, bpmn_files=bundle.bpmn, forms=bundle.forms)


@pytest.fixture
def owner_headers(app: Flask, client: FlaskClient) -> dict[str, str]:
    make_user(app, "owner", ["process_owner", "practitioner"])
    return token_for(client, "owner")
