"""The client registry indexed by the case that made each entry: verify reads a batch of cases' entries
by it, and without the index each batch scanned the whole registry (a cost growing with the square of
the history).

Revision ID: a9c3e5f7b2d4
Revises: d6a2f8c4e1b7
Create Date: 2026-11-23 06:30:00

"""
from alembic import op

revision = "a9c3e5f7b2d4"
down_revision = "d6a2f8c4e1b7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_client_ownership_instance_id", "client_ownership", ["instance_id"])


def downgrade():
    op.drop_index("ix_client_ownership_instance_id", table_name="client_ownership")
