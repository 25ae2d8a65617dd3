"""an instance's ready tasks by one index

Revision ID: 0003_task_instance_status
Revises: 0002_families
Create Date: 2026-11-27 09:05:00.000000

Completing a task reads the instance's ready task rows. With only an index on
`instance_id`, that read walked every completed task of the instance, so long-running
cases got slower with each task; the index on (instance_id, status) replaces it.
"""

from alembic import op

revision = "0003_task_instance_status"
down_revision = "0002_families"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_human_tasks_instance_status", "human_tasks", ["instance_id", "status"], unique=False
    )
    op.drop_index("ix_human_tasks_instance_id", table_name="human_tasks")


def downgrade():
    op.create_index("ix_human_tasks_instance_id", "human_tasks", ["instance_id"], unique=False)
    op.drop_index("ix_human_tasks_instance_status", table_name="human_tasks")
