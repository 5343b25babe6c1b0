"""User profiles: the language and city of each conversation.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_profiles",
        sa.Column("user_key", sa.String(200), primary_key=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("language_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("city", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_profiles")
