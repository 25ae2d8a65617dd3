"""what a case was started with is kept, so everyone working it can read it

Revision ID: 0010_case_records
Revises: 0009_audit_changes_index
Create Date: 2026-11-28 05:00:00.000000

A case's start answers (the disagreement an escalation is about, an MDT meeting's purpose,
questions and date) went only into the workflow state, so nobody working the case could read
them: a respondent was asked to respond to a disagreement the page never showed.

- `process_instances.start_data`: the answers the case was started with, as submitted.
- Reading what was recorded on a case is audited (`process.records_viewed`), and, like every
  read, is left out of `ix_audit_events_changes`, which is rebuilt with the new condition.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision = "0010_case_records"
down_revision = "0009_audit_changes_index"
branch_labels = None
depends_on = None

NOT_A_READ = (
    "action NOT IN ('family.viewed', 'person.special_category_viewed', 'person.viewed', "
    "'process.records_viewed')"
)
BEFORE = "action NOT IN ('family.viewed', 'person.special_category_viewed', 'person.viewed')"


def _changes_index(condition):
    op.drop_index("ix_audit_events_changes", table_name="audit_events")
    op.create_index(
        "ix_audit_events_changes",
        "audit_events",
        ["subject_type", "subject_id", "action"],
        sqlite_where=text(condition),
        postgresql_where=text(condition),
    )


def upgrade():
    op.add_column("process_instances", sa.Column("start_data", sa.JSON(), nullable=True))
    _changes_index(NOT_A_READ)


def downgrade():
    _changes_index(BEFORE)
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_column("start_data")
