"""The migrations build exactly the tables, columns, indexes and constraints the models declare.

A model changed without a migration (or the reverse) would otherwise show only on a database
upgraded in production. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

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
