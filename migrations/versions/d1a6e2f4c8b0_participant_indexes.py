"""indexes for the cases a person took part in: tasks by assignee, claimant and escalation, with their case

Revision ID: d1a6e2f4c8b0
Revises: d1a5c0e7b3f2
Create Date: 2026-11-23 01:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd1a6e2f4c8b0'
down_revision = 'd1a5c0e7b3f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_assignee_case', ['assigned_user_id', 'instance_id'], unique=False,
                              sqlite_where=sa.text("state <> 'open'"), postgresql_where=sa.text("state <> 'open'"))
        batch_op.create_index('ix_human_task_claimer_case', ['claimed_by_id', 'instance_id'], unique=False,
                              sqlite_where=sa.text("state <> 'open'"), postgresql_where=sa.text("state <> 'open'"))
        batch_op.create_index('ix_human_task_escalated_case', ['escalated_to_id', 'instance_id'], unique=False,
                              sqlite_where=sa.text('escalated_at IS NOT NULL'),
                              postgresql_where=sa.text('escalated_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_escalated_case')
        batch_op.drop_index('ix_human_task_claimer_case')
        batch_op.drop_index('ix_human_task_assignee_case')
