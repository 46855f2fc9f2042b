"""attendance score in tenths: half a sick day costs 2.5 points

Revision ID: e7b2c9d4a1f3
Revises: e7b2c4d9a1f3
Create Date: 2026-11-23 00:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7b2c9d4a1f3'
down_revision = 'e7b2c4d9a1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_entry', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Integer(), type_=sa.Numeric(precision=6, scale=1),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('attendance_entry', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Numeric(precision=6, scale=1), type_=sa.Integer(),
                              existing_nullable=False)
