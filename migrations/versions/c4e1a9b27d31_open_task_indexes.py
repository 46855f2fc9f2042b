"""open task indexes: the inbox reads open rows, not the years of finished ones (issue 9)

Partial indexes on open human tasks (the unowned group queue in page order, open
escalations) and the completer's finished tasks for the "done" view.

Revision ID: c4e1a9b27d31
Revises: c7e4a1f9d2b6
Create Date: 2026-11-22 22:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e1a9b27d31'
down_revision = 'c7e4a1f9d2b6'
branch_labels = None
depends_on = None

OPEN_ROW = "state = 'open'"
OPEN_UNOWNED = "state = 'open' AND assigned_user_id IS NULL AND claimed_by_id IS NULL"


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_open_unowned', ['created_at', 'id'], unique=False,
                              sqlite_where=sa.text(OPEN_UNOWNED), postgresql_where=sa.text(OPEN_UNOWNED))
        batch_op.create_index('ix_human_task_open_escalated', ['escalated_to_id', 'created_at'], unique=False,
                              sqlite_where=sa.text(OPEN_ROW), postgresql_where=sa.text(OPEN_ROW))
        batch_op.create_index('ix_human_task_completer', ['completed_by_id', 'completed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completer')
        batch_op.drop_index('ix_human_task_open_escalated')
        batch_op.drop_index('ix_human_task_open_unowned')
