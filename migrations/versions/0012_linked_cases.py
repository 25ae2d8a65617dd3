"""a case's page lists the cases it started

Revision ID: 0012_linked_cases
Revises: 0011_timer_agency
Create Date: 2026-11-28 07:30:00.000000

A referral that leads to early help or an escalation starts another case, but neither case's
page said so. The case page now lists the cases a case started, found by their parent: an
index keeps that one seek, however many cases there are.
"""

from alembic import op

revision = "0012_linked_cases"
down_revision = "0011_timer_agency"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_process_instances_parent_instance_id", "process_instances", ["parent_instance_id"]
    )


def downgrade():
    op.drop_index("ix_process_instances_parent_instance_id", table_name="process_instances")
