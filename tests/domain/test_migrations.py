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


def test_names_recorded_before_search_keys_are_found_after_the_upgrade(
    app: Flask, database_url: str
) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from api.common.context import base_context
    from domain.families import service as families

    at = "2026-12-21 10:00:00+00:00"
    engine = create_engine(database_url)
    try:
        with app.app_context():
            downgrade(revision="0005_audit_append_only")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO families (id, reference, name, created_at, updated_at)"
                    " VALUES (1, 'FAM-000001', 'Ó Briain household', :at, :at),"
                    " (2, 'FAM-000002', NULL, :at, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO people (id, given_name, family_name, sex, created_at, updated_at)"
                    " VALUES (1, 'Zoë', 'Smith-Jones', 'F', :at, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO family_memberships (family_id, person_id, created_at)"
                    " VALUES (2, 1, :at)"
                ),
                {"at": at},
            )
        with app.app_context():
            upgrade()
            ctx = base_context(None)
            found = {
                term: [f.id for f in families.list_families(ctx, search=term)]
                for term in ("zoe smith jones", "o briain", "fam 000002")
            }
            ctx.session.rollback()  # PostgreSQL: a reader's open transaction blocks ALTER TABLE
            downgrade(revision="0005_audit_append_only")  # and back: nothing left behind
            upgrade()
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT search_key FROM people")).scalars().all()
    finally:
        engine.dispose()
    assert found == {"zoe smith jones": [2], "o briain": [1], "fam 000002": [2]}
    assert keys == ["zoe smith jones"]


def test_the_changes_index_leaves_out_exactly_the_reads() -> None:
    """The timeline's query, the model's index and the migration that last set the index (0010)
    say the same words, and every read the application audits is one of the reads they leave
    out."""
    import importlib
    import re
    from pathlib import Path

    from domain.audit.models import NOT_A_READ, READ_ACTIONS

    migration = importlib.import_module("migrations.versions.0010_case_records")
    assert NOT_A_READ.text == migration.NOT_A_READ
    quoted = ", ".join(f"'{action}'" for action in READ_ACTIONS)
    assert NOT_A_READ.text == f"action NOT IN ({quoted})"
    root = Path(__file__).resolve().parents[2]
    written = {
        action
        for folder in ("domain", "api", "web")
        for path in (root / folder).rglob("*.py")
        for action in re.findall(r'"([a-z_]+\.(?:[a-z_]+_)?viewed)"', path.read_text())
    }
    assert written == set(READ_ACTIONS)
