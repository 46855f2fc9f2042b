"""absence cancellations and separation-review triggers

Revision ID: e7b2c4d9a1f3
Revises: d1a6e2f4c8b0
Create Date: 2026-11-23 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7b2c4d9a1f3'
down_revision = 'd1a6e2f4c8b0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_cancellation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['user.id'],
                            name=op.f('fk_attendance_cancellation_cancelled_by_id_user')),
    sa.ForeignKeyConstraint(['entry_id'], ['attendance_entry.id'],
                            name=op.f('fk_attendance_cancellation_entry_id_attendance_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_cancellation')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_attendance_cancellation_entry_id'))
    )
    op.create_table('separation_trigger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['attendance_entry.id'],
                            name=op.f('fk_separation_trigger_entry_id_attendance_entry')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_separation_trigger_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_separation_trigger_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_separation_trigger')),
    sa.UniqueConstraint('user_id', 'kind', 'period', name=op.f('uq_separation_trigger_user_id'))
    )
    with op.batch_alter_table('separation_trigger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_separation_trigger_instance_id'), ['instance_id'], unique=False)


def downgrade():
    with op.batch_alter_table('separation_trigger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_separation_trigger_instance_id'))
    op.drop_table('separation_trigger')
    op.drop_table('attendance_cancellation')
