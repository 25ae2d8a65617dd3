"""names found however their accents, capitals and punctuation are typed

Revision ID: 0006_name_search_keys
Revises: 0005_audit_append_only
Create Date: 2026-11-27 23:50:00.000000

Family search compared names with the database's lower(), which on SQLite folds only ASCII
capitals and on either database keeps accents and punctuation: "zoe smith" did not find
Zoë Smith, "obrien" did not find O'Brien, and "smith amy" did not find Amy Smith. People and
families now carry a search key (`domain.families.names.search_key`, the one the application
writes), filled here for every existing row.
"""

import sqlalchemy as sa
from alembic import op

from domain.families.names import search_key

revision = "0006_name_search_keys"
down_revision = "0005_audit_append_only"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    for table in ("people", "families"):
        op.add_column(table, sa.Column("search_key", sa.Text(), server_default="", nullable=False))
    _fill("people", ("given_name", "family_name"))
    _fill("families", ("reference", "name"))


def _fill(table: str, parts: tuple[str, str]) -> None:
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id"), sa.column("search_key"), *map(sa.column, parts))
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rows.c.id, *(rows.c[p] for p in parts))
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        bind.execute(
            rows.update().where(rows.c.id == sa.bindparam("row_id")),
            [{"row_id": row[0], "search_key": search_key(*row[1:])} for row in batch],
        )
        last = batch[-1][0]


def downgrade():
    for table in ("families", "people"):
        op.drop_column(table, "search_key")  # SQLite 3.35+ drops a column in place
