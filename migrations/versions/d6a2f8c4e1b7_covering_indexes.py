"""Indexes that stop at the page: a person's notices newest first, and an open task's candidate groups
read from the index alone (the inbox's EXISTS).

Revision ID: d6a2f8c4e1b7
Revises: c4e7a9b2d6f1
Create Date: 2026-11-23 06:00:00

"""
from alembic import op

revision = "d6a2f8c4e1b7"
down_revision = "c4e7a9b2d6f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_notice_user_newest", "notice", ["user_id", "id"])
    op.drop_index("ix_notice_user_id", table_name="notice")
    op.create_index("ix_task_candidate_task_groups", "task_candidate", ["task_id", "role_key", "scope_unit_id"])
    op.drop_index("ix_task_candidate_task_id", table_name="task_candidate")


def downgrade():
    op.create_index("ix_task_candidate_task_id", "task_candidate", ["task_id"])
    op.drop_index("ix_task_candidate_task_groups", table_name="task_candidate")
    op.create_index("ix_notice_user_id", "notice", ["user_id"])
    op.drop_index("ix_notice_user_newest", table_name="notice")
