"""keyed audit chain: key id and state seal on audit events

Revision ID: 7a1f0c2d9e4b
Revises: 0c3c3cd74930
Create Date: 2026-11-23 10:00:00

Existing events keep key_id NULL: they are legacy plain SHA-256 events, which
`flask audit reseal --legacy` pins once under the audit key (see README).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a1f0c2d9e4b'
down_revision = '0c3c3cd74930'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('state_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('state_digest')
        batch_op.drop_column('key_id')
