"""`GET /healthz`: can this app process serve requests? For load balancers and monitoring.

It answers without a token and says nothing about any case or person: only whether the
database answers and holds the schema this code was written for (a process started before
`thinkfamily db upgrade`, or after a newer release upgraded the database, must not serve).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.common.extensions import db
from api.common.problems import RETRY_AFTER

bp = Blueprint("health", __name__)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@cache
def expected_revision() -> str | None:
    """The newest migration this code ships (read once: it cannot change while running)."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@bp.get("/healthz")
def health() -> Response:
    """200 when the database answers and its schema is current; 503 saying which is not."""
    checks = {"database": "ok", "schema": "current"}
    try:
        with db.engine.connect() as connection:
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
        if revision != expected_revision():
            checks["schema"] = "not created" if revision is None else "not this release's"
    except DBAPIError as error:
        if "alembic_version" in str(error.orig):  # connected, but never migrated
            checks["schema"] = "not created"
        else:
            checks["database"] = "unreachable"
            checks["schema"] = "unknown"
            current_app.logger.error("health: database unreachable (%s)", type(error.orig).__name__)
    healthy = checks == {"database": "ok", "schema": "current"}
    response = jsonify({"status": "ok" if healthy else "unavailable", "checks": checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    if not healthy:
        response.headers["Retry-After"] = RETRY_AFTER
    return response
