"""The gateway's tables (SQLAlchemy 2): profiles, inbox, outbox, tickets, mediators, the audit log.

Rasa's tracker store is separate (Rasa's own tables, its own SQLAlchemy 1.4).
Schema changes go through Alembic migrations in ``migrations/``, applied at start-up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class UserProfileRow(Base):
    """What the desk remembers about a user between messages: language and city, nothing else."""

    __tablename__ = "user_profiles"

    user_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    language_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(40))
    # a handoff waiting for the user's few words: the topic and whether it is urgent
    handoff_topic: Mapped[str | None] = mapped_column(String(60))
    handoff_urgent: Mapped[bool | None] = mapped_column(Boolean)
    handoff_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    confirming_forget: Mapped[bool] = mapped_column(Boolean, default=False)  # asked "delete everything?"
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class InboxRow(Base):
    """Every inbound update, written before the webhook answers 200: nothing acknowledged is lost."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "platform_id", name="uq_inbox_channel_platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str] = mapped_column(String(200))
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # emptied once processed (privacy); a photo's or document's platform file reference, as JSON
    text: Mapped[str] = mapped_column(Text, default="")
    language_hint: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending|done|parked
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failures of its own (not engine outages)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: due now
    error: Mapped[str | None] = mapped_column(Text)  # why it was parked (an error type, never text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the gateway process working it, until when (several gateways share one database)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A reply waiting to be sent, sent, held (WhatsApp window closed) or finally failed (with why)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(10), default="reply")  # reply | template
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)  # of a reply needing several messages
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    platform_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # the gateway process sending it
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserRefRow(Base):
    """Pseudonymous reference -> the channel address replies go to. Deleting it cuts the link."""

    __tablename__ = "user_refs"

    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(200), unique=True)


class TicketCounterRow(Base):
    """The last ticket number per city and year (CE-2026-0042)."""

    __tablename__ = "ticket_counters"

    city: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class TicketRow(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    city: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(60))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    user_ref: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[str | None] = mapped_column(String(250), unique=True)  # the inbound message
    staff_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)  # the staff group was told
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # kept for statistics


class TicketEntryRow(Base):
    """One line of a ticket's transcript, in either direction."""

    __tablename__ = "ticket_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(20), index=True)
    author: Mapped[str] = mapped_column(String(10))
    mediator_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TicketNoteRow(Base):
    """Internal notes: seen by the team only."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(20), index=True)
    mediator_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MediatorRow(Base):
    __tablename__ = "mediators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    cities: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(10), default="it", server_default="it")  # the dashboard's


class SessionRow(Base):
    """A logged-in dashboard session (the cookie holds only the random id)."""

    __tablename__ = "mediator_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mediator_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who viewed, replied, reassigned and closed what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mediator_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(30))
    ticket_id: Mapped[str | None] = mapped_column(String(20), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MissedMessageRow(Base):
    """A message the assistant could not answer, for staff to learn from: no user key, no ticket, no
    channel address; deleted after a short retention period."""

    __tablename__ = "missed_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(20))  # not_understood | out_of_scope | no_answer
    topic: Mapped[str | None] = mapped_column(String(60))  # the classifier's best guess
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    city: Mapped[str | None] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    decision: Mapped[str | None] = mapped_column(String(20), index=True)  # example|knowledge|out_of_scope
    decision_topic: Mapped[str | None] = mapped_column(String(60))


class AttachmentRow(Base):
    """A file a user sent for a ticket; its bytes are ``file_name`` (random) in the attachment folder.
    Deleted, with the file, when the ticket loses its words (/forget, retention)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(20), index=True)
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # photo | document
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))  # as the bytes show it, not as declared
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
