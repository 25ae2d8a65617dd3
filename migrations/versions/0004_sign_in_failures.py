"""failed sign-ins per username, for throttling password guessing

Revision ID: 0004_sign_in_failures
Revises: 0003_task_instance_status
Create Date: 2026-11-27 18:00:00.000000

After five failed sign-ins in a row with one username, each further try must wait, longer
each time (see `domain.users.service.SIGN_IN_THROTTLE`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sign_in_failures"
down_revision = "0003_task_instance_status"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("username_digest", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username_digest"),
    )


def downgrade():
    op.drop_table("sign_in_failures")
