"""a page form sent twice records once

Revision ID: 0007_form_submissions
Revises: 0006_name_search_keys
Create Date: 2026-11-28 00:50:00.000000

A second click on a slow day, or a form resent after a timeout, started a second case or
added a family or person twice. Forms that record something now carry a one-time token;
`form_submissions` keeps each token with its result for a day. API clients get the same
with an `Idempotency-Key` header on a start.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_form_submissions"
down_revision = "0006_name_search_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("result_path", sa.String(length=300), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("token", "user_id"),
    )
    op.create_index("ix_form_submissions_created_at", "form_submissions", ["created_at"])


def downgrade():
    op.drop_index("ix_form_submissions_created_at", table_name="form_submissions")
    op.drop_table("form_submissions")
