"""A database that cannot be reached, or holds another release's schema: `/healthz` says so, and
every request is a 503 with Retry-After (never a 500), as a problem or a page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from api.common.problems import is_busy
from tests.api.test_definitions_api import assert_problem

HEALTHY = {"status": "ok", "checks": {"database": "ok", "schema": "current"}}


def app_on(url: str) -> Flask:
    from api.app import create_app

    return create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"})


def unreachable_urls(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path}/no-such-folder/thinkfamily.sqlite"
    yield "postgresql+psycopg://thinkfamily@127.0.0.1:9/thinkfamily?connect_timeout=2"


def test_a_migrated_database_is_healthy(client: FlaskClient) -> None:
    response = client.get("/healthz")  # no token: load balancers have none
    assert response.status_code == 200
    assert response.json == HEALTHY
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_an_unreachable_database_is_a_503_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for url in unreachable_urls(tmp_path):
        client = app_on(url).test_client()
        health = client.get("/healthz")
        assert health.status_code == 503, url
        assert health.json == {
            "status": "unavailable",
            "checks": {"database": "unreachable", "schema": "unknown"},
        }
        assert health.headers["Retry-After"] == "30"

        for method, path, body in (
            ("GET", "/api/v1/tasks", None),
            ("POST", "/api/v1/auth/token", {"username": "pat", "password": "secret-password"}),
        ):
            response = client.open(
                path, method=method, json=body, headers={"Authorization": "Bearer not-checked"}
            )
            problem = assert_problem(
                response, 503, code="database-unavailable", secrets=("secret-password",)
            )
            assert "Try again" in problem["detail"]
            assert response.headers["Retry-After"] == "30"

        with client.session_transaction() as session:
            session["user_id"] = 1
            session["auth_version"] = "any"
        page = client.get("/families")
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "30"
        assert "cannot reach its database" in page.get_data(as_text=True)
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert logged
    assert all("secret-password" not in m and "thinkfamily@" not in m for m in logged)
    assert any("auth.py" in m for m in logged)  # our frames, not only the driver's


def test_a_database_never_migrated_is_unhealthy(tmp_path: Path) -> None:
    client = app_on(f"sqlite:///{tmp_path}/empty.sqlite").test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {
        "status": "unavailable",
        "checks": {"database": "ok", "schema": "not created"},
    }


@pytest.fixture
def older_schema(database_url: str) -> Iterator[None]:
    """The database as a release one migration behind this code left it (restored after)."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        current = conn.scalar(text("SELECT version_num FROM alembic_version"))
        conn.execute(text("UPDATE alembic_version SET version_num = 'an_older_release'"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        engine.dispose()


@pytest.mark.usefixtures("older_schema")
def test_another_releases_schema_is_unhealthy(app: Flask, client: FlaskClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {
        "status": "unavailable",
        "checks": {"database": "ok", "schema": "not this release's"},
    }


@pytest.mark.parametrize(
    ("sqlstate", "busy"),
    [("40001", True), ("40P01", True), ("55P03", True), ("08006", False), (None, False)],
)
def test_postgresql_serialization_deadlock_and_lock_refusals_are_busy_not_unavailable(
    sqlstate: str | None, busy: bool
) -> None:
    from sqlalchemy.exc import OperationalError

    class DriverError(Exception):
        pass

    orig: Any = DriverError("refused")
    orig.sqlstate = sqlstate
    assert is_busy(OperationalError("UPDATE ...", {}, orig)) is busy
