"""case head index: every case's (id, audit_seq, audit_hash) without reading its state

Revision ID: c4e7a9d2b8f1
Revises: c4e1a9b27d31
Create Date: 2026-11-22 22:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e7a9d2b8f1'
down_revision = 'c4e1a9b27d31'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_process_instance_head', ['id', 'audit_seq', 'audit_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_head')
