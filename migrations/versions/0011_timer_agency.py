"""a timer says whose work it chases

Revision ID: 0011_timer_agency
Revises: 0010_case_records
Create Date: 2026-11-28 05:00:00.000000

Each agency invited to an MDT meeting has its own reply reminders, and each action owner its
own chasers, but the case page listed them only by the timer's name ("No reply in time",
twice), so a manager could not tell whose reply was late. A timer row now keeps the agency of
the task it is attached to.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_timer_agency"
down_revision = "0010_case_records"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("timers", sa.Column("agency_code", sa.String(40), nullable=True))


def downgrade():
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("agency_code")
