"""The ticket domain: what a handoff is, who works on it, how it ends, and the news about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Status(str, Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    WAITING_FOR_USER = "waiting_for_user"
    CLOSED = "closed"


# While a ticket is in one of these, a mediator holds the conversation and the bot stays quiet.
HELD = (Status.ASSIGNED, Status.WAITING_FOR_USER)


class Outcome(str, Enum):
    RESOLVED = "resolved"
    REFERRED = "referred_to_service"
    NO_ANSWER = "no_answer_from_user"
    NOT_ELIGIBLE = "not_eligible"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Role(str, Enum):
    MEDIATOR = "mediator"
    COORDINATOR = "coordinator"


class Author(str, Enum):
    USER = "user"
    BOT = "bot"
    MEDIATOR = "mediator"


@dataclass(frozen=True)
class Entry:
    author: Author
    text: str
    at: datetime
    mediator: str | None = None


@dataclass(frozen=True)
class Note:
    text: str
    at: datetime
    mediator: str


@dataclass(frozen=True)
class Ticket:
    id: str  # CE-2026-0042
    city: str
    language: str
    topic: str | None
    urgent: bool
    channel: str
    user_ref: str  # pseudonymous; the channel address lives in user_refs, erasable
    status: Status
    assignee: str | None
    created_at: datetime
    due_at: datetime
    details: str = ""
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    transcript: list[Entry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    assignee_id: int | None = None
    staff_notified: bool = False  # the staff group was told of it (a replay must not tell it twice)

    @property
    def held(self) -> bool:
        return self.status in HELD

    def overdue(self, now: datetime) -> bool:
        return self.status is not Status.CLOSED and now > self.due_at


@dataclass(frozen=True)
class Mediator:
    id: int
    email: str
    name: str
    role: Role
    cities: tuple[str, ...]
    languages: tuple[str, ...]
    active: bool = True
    language: str = "it"  # the dashboard's language, the mediator's choice (STAFF_LANGUAGES)

    def may_see(self, city: str) -> bool:
        return city in self.cities


STAFF_LANGUAGES: tuple[str, ...] = ("it", "en")  # the dashboard's languages; Italian first, the default


@dataclass(frozen=True)
class NewTicket:
    """What the handoff knows when it opens a ticket (the store gives it its id)."""

    city: str
    province: str
    language: str
    topic: str | None
    urgent: bool
    channel: str
    user_key: str
    details: str
    due_at: datetime
    transcript: tuple[Entry, ...] = ()
    # the inbound message that opened it ("telegram:<update id>"): opening again from the same message (a
    # replay after a crash) gives back this ticket instead of a second one; "" for the web chat
    opened_by: str = ""


@dataclass(frozen=True)
class QueueFilter:
    scope: str = "all"  # all | unassigned | mine
    language: str | None = None
    topic: str | None = None
    status: str | None = None  # a Status value; default: everything not closed


@dataclass(frozen=True)
class TicketEvent:
    """News for the dashboard's live pages."""

    ticket_id: str
    kind: str  # "entry" (a new transcript line), "status", "note", "new" (a ticket was opened)
    city: str
