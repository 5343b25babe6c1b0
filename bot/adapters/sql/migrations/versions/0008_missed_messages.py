"""Messages the assistant could not answer (for staff to turn into training examples or knowledge; no
user identifier), whether the staff group was told a ticket is overdue, and when a ticket got its first
reply (kept for statistics after the transcript is erased).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "missed_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("topic", sa.String(60), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False, server_default="0"),
        sa.Column("city", sa.String(40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("decision_topic", sa.String(60), nullable=True),
    )
    op.create_index("ix_missed_messages_city", "missed_messages", ["city"])
    op.create_index("ix_missed_messages_at", "missed_messages", ["at"])
    op.create_index("ix_missed_messages_decision", "missed_messages", ["decision"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("overdue_notified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
    # tickets replied to before this revision: their first reply from the transcript, while it is there
    op.execute(
        "UPDATE tickets SET first_reply_at = (SELECT MIN(e.at) FROM ticket_entries e "
        "WHERE e.ticket_id = tickets.id AND e.author = 'mediator')"
    )
    # tickets overdue already are in the queue, marked: announcing the whole backlog at once would bury
    # the staff group; only tickets that become overdue from now on are announced
    op.execute("UPDATE tickets SET overdue_notified = true WHERE due_at < CURRENT_TIMESTAMP")


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("first_reply_at")
        batch.drop_column("overdue_notified")
    op.drop_index("ix_missed_messages_decision", table_name="missed_messages")
    op.drop_index("ix_missed_messages_at", table_name="missed_messages")
    op.drop_index("ix_missed_messages_city", table_name="missed_messages")
    op.drop_table("missed_messages")
