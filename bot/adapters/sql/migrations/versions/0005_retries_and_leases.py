"""Inbox retries of their own (a failure count, when the message is due again, why it was parked), and
leases on inbox and outbox rows (which gateway process works a row, until when), and the inbound message
that opened a ticket (a replay opens no second one) with whether the staff group was told.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
    for table in ("inbox", "outbox"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
            batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("opened_by", sa.String(250), nullable=True))
        batch.add_column(sa.Column("staff_notified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_unique_constraint("uq_tickets_opened_by", ["opened_by"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("uq_tickets_opened_by", type_="unique")
        batch.drop_column("staff_notified")
        batch.drop_column("opened_by")
    for table in ("inbox", "outbox"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_until")
            batch.drop_column("claimed_by")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("error")
        batch.drop_column("next_attempt_at")
        batch.drop_column("failures")
