"""Tickets, their transcripts and notes, mediators and their sessions, the audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    with op.batch_alter_table("user_profiles") as profiles:
        profiles.add_column(sa.Column("handoff_topic", sa.String(60), nullable=True))
        profiles.add_column(sa.Column("handoff_urgent", sa.Boolean(), nullable=True))
        profiles.add_column(
            sa.Column("handoff_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "user_refs",
        sa.Column("ref", sa.String(40), primary_key=True),
        sa.Column("user_key", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("city", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("city", sa.String(40), nullable=False, index=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(60), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_ref", sa.String(40), nullable=True, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("closed_at", when, nullable=True),
    )
    op.create_table(
        "ticket_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(20), nullable=False, index=True),
        sa.Column("author", sa.String(10), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", when, nullable=False),
    )
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(20), nullable=False, index=True),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", when, nullable=False),
    )
    op.create_table(
        "mediators",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "mediator_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("mediator_id", sa.Integer(), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mediator_id", sa.Integer(), nullable=True, index=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("ticket_id", sa.String(20), nullable=True, index=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", when, nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("user_profiles") as profiles:
        for column in ("handoff_pending", "handoff_urgent", "handoff_topic"):
            profiles.drop_column(column)
    for table in (
        "audit_log",
        "mediator_sessions",
        "mediators",
        "ticket_notes",
        "ticket_entries",
        "tickets",
        "ticket_counters",
        "user_refs",
    ):
        op.drop_table(table)
