"""The dashboard's language of each mediator (Italian unless they choose English).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mediators") as batch:
        batch.add_column(sa.Column("language", sa.String(10), nullable=False, server_default="it"))


def downgrade() -> None:
    with op.batch_alter_table("mediators") as batch:
        batch.drop_column("language")
