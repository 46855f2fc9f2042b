"""Sale register: the suitable products offered, the customer's confirmation, the witness's second warning
and a decline's reason.

Revision ID: c4e7a9b2d6f1
Revises: f3a8c1d5e9b2
Create Date: 2026-11-25 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c4e7a9b2d6f1"
down_revision = "f3a8c1d5e9b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sale_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suitable_products", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("customer_confirmed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("witness_warning", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("declined_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("sale_record", schema=None) as batch_op:
        batch_op.drop_column("declined_reason")
        batch_op.drop_column("witness_warning")
        batch_op.drop_column("customer_confirmed")
        batch_op.drop_column("suitable_products")
