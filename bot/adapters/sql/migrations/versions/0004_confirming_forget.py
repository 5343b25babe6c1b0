"""A /forget waiting for its confirmation: that answer goes to the assistant, not to a held ticket.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_profiles") as batch:
        column = sa.Column("confirming_forget", sa.Boolean(), nullable=False, server_default=sa.false())
        batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("user_profiles") as batch:
        batch.drop_column("confirming_forget")
