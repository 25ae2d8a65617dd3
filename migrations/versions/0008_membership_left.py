"""a member who has left the household stays on the record, with when they left

Revision ID: 0008_membership_left
Revises: 0007_form_submissions
Create Date: 2026-11-28 02:30:00.000000

Households change: a partner moves out, a child goes to live with a grandparent. Nothing could
record that, so the family record showed everyone who had ever lived there as living there
now. A membership now keeps the date the person left and, optionally, why. They stay on the
family record (a significant adult who has left is still significant) and its timeline.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_membership_left"
down_revision = "0007_form_submissions"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("family_memberships", sa.Column("left_on", sa.Date(), nullable=True))
    op.add_column("family_memberships", sa.Column("left_reason", sa.String(200), nullable=True))


def downgrade():
    with op.batch_alter_table("family_memberships") as batch:
        batch.drop_column("left_reason")
        batch.drop_column("left_on")
