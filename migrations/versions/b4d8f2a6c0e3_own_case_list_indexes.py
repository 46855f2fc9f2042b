"""A person's own case list ("My cases") newest first, a page at a time: the cases they started by
(started_by_id, id), replacing the index of started_by_id alone, and the cases they completed a task of
by (completed_by_id, instance_id). Without them the GM's first page read every task they ever completed.

Revision ID: b4d8f2a6c0e3
Revises: a9c3e5f7b2d4
Create Date: 2026-11-23 08:30:00

"""
from alembic import op

revision = "b4d8f2a6c0e3"
down_revision = "a9c3e5f7b2d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_process_instance_starter_newest", "process_instance", ["started_by_id", "id"])
    op.drop_index("ix_process_instance_started_by_id", table_name="process_instance")
    op.create_index("ix_human_task_completer_case", "human_task", ["completed_by_id", "instance_id"])


def downgrade():
    op.drop_index("ix_human_task_completer_case", table_name="human_task")
    op.create_index("ix_process_instance_started_by_id", "process_instance", ["started_by_id"])
    op.drop_index("ix_process_instance_starter_newest", table_name="process_instance")
