"""case search indexes: by start (all, per status, per process), by end, and the title (trigram on PostgreSQL)

Revision ID: c4e8a1f6b2d9
Revises: c4e7a9d2b8f1
Create Date: 2026-11-22 22:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f6b2d9'
down_revision = 'c4e7a9d2b8f1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # trusted since PostgreSQL 13: the database owner may create it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_process_instance_started', ['started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_status_started', ['status', 'started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_process_started', ['process_key', 'started_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_process_instance_ended', ['ended_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_title', ['title'], unique=False, postgresql_using='gin',
                              postgresql_ops={'title': 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_title')
        batch_op.drop_index('ix_process_instance_ended')
        batch_op.drop_index('ix_process_instance_process_started')
        batch_op.drop_index('ix_process_instance_status_started')
        batch_op.drop_index('ix_process_instance_started')
    # pg_trgm stays: other objects may use it, and it holds no data
