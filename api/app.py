"""The composition root: create_app wires settings, database, engine, blueprints and pages."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask

from api.common.config import load_settings
from api.common.extensions import db, migrate
from api.common.inputs import install_input_guards
from api.common.problems import register_error_handlers
from domain.calendar import service as calendar_service
from engine.spiff import SpiffEngine

ROOT_MIGRATIONS = __import__("pathlib").Path(__file__).resolve().parents[1] / "migrations"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Create the ThinkFamily application."""
    config = load_settings(settings)
    from web.assets import STATIC_DIR

    app = Flask("thinkfamily", static_folder=str(STATIC_DIR), static_url_path="/static")
    install_input_guards(app)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=config["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(config["DATABASE_URL"]),
        SECRET_KEY=config["SECRET_KEY"] or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config["SESSION_COOKIE_SECURE"]),
        # a signed-in page session ends after two hours without a request (refreshed on use)
        PERMANENT_SESSION_LIFETIME=timedelta(hours=2),
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        API_TITLE="ThinkFamily API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        TESTING=bool(config.get("TESTING", False)),
    )
    logging.getLogger("thinkfamily").setLevel(config["LOG_LEVEL"])
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT_MIGRATIONS))
    if config["DATABASE_URL"].startswith("sqlite"):
        _sqlite_pragmas(app)
    hours, minutes = (int(x) for x in str(config["CLOSE_TIME"]).split(":"))
    weekend = tuple(int(x) for x in str(config["WEEKEND_DAYS"]).split(",") if x.strip())
    calendar_service.configure(weekend=weekend, close_time=time(hours, minutes))
    the_clock = clock or _utc_now
    engine = SpiffEngine(calendar=calendar_service.latest_calendar, clock=the_clock)
    app.extensions["thinkfamily"] = {"engine": engine, "clock": the_clock, "settings": config}
    register_error_handlers(app)
    app.teardown_appcontext(_release_calendar)
    from api.rest import register_api

    register_api(app)
    from web.pages import register_web

    register_web(app)
    from api.cli import register_cli

    register_cli(app)
    return app


def _release_calendar(_error: BaseException | None) -> None:
    calendar_service.release_calendar_slot()


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in str(engine.url):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
