"""a family's timeline finds its changes without reading its reads

Revision ID: 0009_audit_changes_index
Revises: 0008_membership_left
Create Date: 2026-11-28 03:10:00.000000

Every view of a family writes an audit row for the family and one per member, and so does
every task page beside it. The family timeline found its entries through the index on
(subject_type, subject_id), so it read every one of those rows to keep the few it shows,
and on PostgreSQL the planner could instead walk the whole audit trail newest first: 1.4 s
for a family last changed a year and 800,000 rows ago.

- `ix_audit_events_changes`: (subject_type, subject_id, action), reads left out. It
  replaces `ix_audit_events_subject`, which a planner would use to read every view of a
  family's members instead (PostgreSQL did, once it planned the timeline generically).
- `ix_audit_events_instance_id` leaves out the many events of no case, so the planner's
  figures for it stay true.
"""

from alembic import op
from sqlalchemy import text

revision = "0009_audit_changes_index"
down_revision = "0008_membership_left"
branch_labels = None
depends_on = None

NOT_A_READ = "action NOT IN ('family.viewed', 'person.special_category_viewed', 'person.viewed')"
HAS_CASE = "instance_id IS NOT NULL"


def upgrade():
    op.create_index(
        "ix_audit_events_changes",
        "audit_events",
        ["subject_type", "subject_id", "action"],
        sqlite_where=text(NOT_A_READ),
        postgresql_where=text(NOT_A_READ),
    )
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_audit_events_instance_id", table_name="audit_events")
    op.create_index(
        "ix_audit_events_instance_id",
        "audit_events",
        ["instance_id"],
        sqlite_where=text(HAS_CASE),
        postgresql_where=text(HAS_CASE),
    )


def downgrade():
    op.drop_index("ix_audit_events_instance_id", table_name="audit_events")
    op.create_index("ix_audit_events_instance_id", "audit_events", ["instance_id"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_type", "subject_id"])
    op.drop_index("ix_audit_events_changes", table_name="audit_events")
