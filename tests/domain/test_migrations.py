"""The migrations build exactly the tables, columns, indexes and constraints the models declare.

A model changed without a migration (or the reverse) would otherwise show only on a database
upgraded in production. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine

from domain.db import Base


def test_the_migrated_database_matches_the_models(app: Flask, database_url: str) -> None:
    assert "sign_in_failures" in Base.metadata.tables  # every model is loaded with the app
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_audit_trail_can_be_added_to_but_never_changed_or_deleted(
    app: Flask, database_url: str
) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = create_engine(database_url)
    row = {"at": "2026-12-21 10:00:00+00:00", "action": "family.created", "type": "family"}
    insert = text(
        "INSERT INTO audit_events (at, action, subject_type, subject_id, details)"
        " VALUES (:at, :action, :type, '1', '{}')"
    )
    try:
        with engine.begin() as connection:
            connection.execute(insert, row)
        for statement in (
            "UPDATE audit_events SET action = 'family.deleted'",
            "DELETE FROM audit_events",
        ):
            with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT action FROM audit_events")).scalars().all()
        with app.app_context():  # a downgrade lifts the guard; upgrading again restores it
            downgrade(revision="0004_sign_in_failures")
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM audit_events"))
            upgrade()
        with engine.begin() as connection:
            connection.execute(insert, row)
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events"))
    finally:
        engine.dispose()
    assert kept == ["family.created"]
