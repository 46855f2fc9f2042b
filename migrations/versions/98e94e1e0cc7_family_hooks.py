"""family hooks: cases started by the system, admin settings with their history, job runs

Revision ID: 98e94e1e0cc7
Revises: 7a1f0c2d9e4b
Create Date: 2026-11-22 19:34:30.294889

process_instance.started_by_id becomes nullable (a case a job or another case
started has no human initiator; ``origin`` says what started it). Downgrading
fails while such cases exist.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '98e94e1e0cc7'
down_revision = '7a1f0c2d9e4b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=80), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('result', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_run_job'))
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_setting_updated_by_id_user')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('setting_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_setting_change_changed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setting_change'))
    )
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setting_change_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_setting_change_key'), ['key'], unique=False)

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=80), nullable=True))
        batch_op.alter_column('started_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.alter_column('started_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('origin')

    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setting_change_key'))
        batch_op.drop_index(batch_op.f('ix_setting_change_changed_at'))

    op.drop_table('setting_change')
    op.drop_table('setting')
    op.drop_table('job_run')
