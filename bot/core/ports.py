"""The small interfaces the use cases take. SQL, Rasa and the platforms implement them in
``bot.adapters``; the tests use the in-memory fakes in ``tests/fakes``.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.attachments import Attachment, MediaRef
from bot.core.messages import Inbound, InboundMessage, Letter, Outbound, Reply, Understanding
from bot.core.overview import Decision, MissedMessage, TicketFacts, TicketQuery
from bot.core.profiles import Profile
from bot.core.tickets import (
    Author,
    Entry,
    Mediator,
    NewTicket,
    Outcome,
    QueueFilter,
    Role,
    Status,
    Ticket,
    TicketEvent,
)


class Engine(Protocol):
    """Understands one message and answers it (Rasa's REST channel)."""

    async def send(
        self, user_key: str, text: str, metadata: dict[str, Any], message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The engine's messages for one user message; the same ``message_id`` twice is answered once."""
        ...

    async def understand(self, text: str) -> Understanding:
        """The intent and the urgency of a text, without answering it or touching a conversation."""
        ...


class OutboundChannel(Protocol):
    """The port every sending channel implements.

    A reply may need several platform messages (a long text, a list after a text): ``parts`` says which,
    and the outbox records each part once sent, so a retry never repeats what the user already has.
    """

    name: str

    def parts(self, reply: Reply, language: str) -> list[Any]:
        """The platform messages that carry one reply, in order."""
        ...

    async def send_part(self, user: str, part: Any) -> str:
        """Send one part; return the platform's message id. Raise a ``DeliveryError`` otherwise."""
        ...

    async def send(self, user: str, reply: Reply, language: str) -> str:
        """Send every part of a reply (for callers without an outbox); the last message id."""
        ...

    async def send_template(self, user: str, language: str) -> str:
        """Re-open a conversation (WhatsApp's approved template); others just raise Undeliverable."""
        ...


class Inbox(Protocol):
    """Every inbound message, stored before its webhook is acknowledged, answered in order per user."""

    async def receive(self, message: InboundMessage) -> bool:
        """Store a message; False when it was stored already (a platform's retry)."""
        ...

    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]:
        """Store messages in one transaction (a group commit); for each, False if stored already."""
        ...

    async def pending_users(self) -> list[str]:
        """Users with a message due (not waiting for a retry), the longest-waiting first."""
        ...

    async def next_for(self, user_key: str) -> Inbound | None:
        """The user's oldest unanswered message if it is due; None while it waits for a retry."""
        ...

    async def renew(self, inbound_ids: list[int]) -> None:
        """Extend this process's claims on the messages it is still working."""
        ...

    async def postpone(self, inbound_id: int, seconds: float) -> None:
        """The engine is down: try again in ``seconds`` (not a failure of the message)."""
        ...

    async def failed(self, inbound_id: int, seconds: float, reason: str) -> None:
        """The message failed for a reason of its own: count it and try again in ``seconds``."""
        ...

    async def park(self, inbound: Inbound, reason: str, language: str, replies: list[Reply]) -> None:
        """Give up on a message (its text erased, the reason kept) and queue the apology, in one go."""
        ...

    async def finish(
        self, inbound: Inbound, language: str, replies: list[Reply], ephemeral: bool = False
    ) -> None:
        """Mark the message answered and queue its replies in the outbox, both or neither."""
        ...

    async def last_inbound_at(self, user_key: str) -> datetime | None: ...
    async def erase_user(self, user_key: str) -> None: ...
    async def purge_answered(self, older_than: timedelta) -> int: ...


class Outbox(Protocol):
    """Replies waiting to be sent, with their retries, holds and the platforms' delivery reports."""

    async def queue(
        self, channel: str, user_key: str, language: str, replies: list[Reply], kind: str = "reply"
    ) -> None: ...

    async def due(self, now: datetime) -> list[Outbound]:
        """Per user, the oldest unsent reply, when it is due: order within a conversation holds."""
        ...

    async def claim(self, outbound_id: int) -> bool:
        """Take a due reply for this process to send; False when another process has it."""
        ...

    async def sent(self, outbound_id: int, platform_message_id: str) -> None: ...
    async def part_sent(self, outbound_id: int, parts_sent: int, platform_message_id: str) -> None: ...
    async def retry(self, outbound_id: int, delay: float, error: str) -> None: ...
    async def failed(self, outbound_id: int, error: str) -> None: ...
    async def hold(self, user_key: str) -> None: ...
    async def delivery(self, platform_message_id: str, status: str, error: str | None) -> str | None: ...
    async def reopen(self, platform_message_id: str) -> None: ...
    async def erase_user(self, user_key: str) -> None: ...
    async def purge_sent(self, older_than: timedelta) -> int: ...


class Mailbox(Protocol):
    """Messages for users who are not pushed to (the web chat): each waits until the user's page says it
    has shown it, so a reply written while the page was closed is there when it opens again."""

    async def post(self, user_key: str, language: str, text: str, from_person: bool) -> None: ...

    async def waiting(self, user_key: str, after: int = 0) -> list[Letter]:
        """The user's letters not yet shown, after the letter ``after``, oldest first."""
        ...

    async def shown(self, user_key: str, up_to: int) -> int:
        """The page showed every letter up to ``up_to``: they leave the mailbox. How many did."""
        ...


class Translator(Protocol):
    """Machine translation on a service the city runs itself (LibreTranslate). Only built when the city
    configured one: no text leaves the desk for a service nobody chose."""

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Each text in ``target``, in order; ``TranslationUnavailable`` when the service fails."""
        ...


class ProfileStore(Protocol):
    async def get(self, user_key: str) -> Profile: ...
    async def save(self, profile: Profile) -> None: ...
    async def erase(self, user_key: str) -> None: ...


class Transcript(Protocol):
    """The conversation so far as the engine remembers it (Rasa's tracker)."""

    async def conversation(self, user_key: str, limit: int = 40) -> list[Entry]: ...
    async def erase(self, user_key: str) -> int: ...
    async def purge_older_than(self, older_than: timedelta) -> int: ...


class TicketStore(Protocol):
    """Tickets, their transcripts and notes, the audit log. Every read a mediator makes takes the
    mediator and answers ``TicketNotFound`` for another city's ticket, as for a missing one."""

    async def open(self, new: NewTicket) -> Ticket: ...
    async def opened_by(self, message_key: str) -> Ticket | None:
        """The ticket that inbound message opened, or None."""
        ...

    async def mark_notified(self, ticket_id: str) -> None: ...
    async def get(self, ticket_id: str) -> Ticket: ...
    async def get_for(self, mediator: Mediator, ticket_id: str) -> Ticket: ...
    async def queue(self, mediator: Mediator, wanted: QueueFilter) -> list[Ticket]: ...
    async def open_for_user(self, user_key: str) -> list[Ticket]: ...

    async def opened_since(
        self, since: datetime, user_key: str | None = None, city: str | None = None
    ) -> int:
        """How many tickets were opened since then, closed ones included, by one user or in one city
        (the limits: tickets per user per day, a city's unusual burst)."""
        ...

    async def held_for_user(self, user_key: str) -> Ticket | None: ...
    async def user_key_of(self, ticket: Ticket) -> str | None: ...

    async def add_entry(
        self,
        ticket_id: str,
        author: Author,
        text: str,
        mediator_id: int | None = None,
        status: Status | None = None,
    ) -> None: ...

    async def claim(self, mediator: Mediator, ticket_id: str) -> Ticket: ...
    async def release(self, mediator: Mediator, ticket_id: str) -> Ticket: ...
    async def reassign(self, coordinator: Mediator, ticket_id: str, to: Mediator) -> Ticket: ...
    async def reply(self, mediator: Mediator, ticket_id: str, text: str) -> Ticket: ...
    async def note(self, mediator: Mediator, ticket_id: str, text: str) -> None: ...
    async def close(self, mediator: Mediator, ticket_id: str, outcome: Outcome) -> Ticket: ...
    async def classify(
        self, mediator: Mediator, ticket_id: str, topic: str | None, urgent: bool, due_at: datetime
    ) -> Ticket:
        """A mediator corrects the topic and the urgency (audited, with what they were before)."""
        ...


    async def audit(
        self, mediator: Mediator | None, action: str, ticket_id: str | None, detail: str = ""
    ) -> None: ...

    async def erase_user(self, user_key: str) -> int: ...
    async def purge_closed(self, older_than: timedelta) -> int: ...
    async def purge_audit(self, older_than: timedelta) -> int: ...


class TicketOverview(Protocol):
    """Tickets read for statistics and search (facts only, no transcript), and the overdue ones claimed
    for their one announcement."""

    async def find(self, query: TicketQuery) -> list[TicketFacts]:
        """The tickets of ``query.cities`` matching it, newest first."""
        ...

    async def claim_overdue(self, now: datetime) -> list[TicketFacts]:
        """Open tickets past their due time not yet announced, each claimed by one conditional UPDATE:
        of several gateways asking at once, exactly one gets each ticket."""
        ...


class MissedMessages(Protocol):
    """Messages the assistant could not answer, kept without any user identifier for a short time."""

    async def record(self, message: MissedMessage) -> None: ...

    async def undecided(self, cities: tuple[str, ...], without_city: bool) -> list[MissedMessage]:
        """Not yet marked, of these cities (and those of no known city when ``without_city``)."""
        ...

    async def decide(
        self,
        ids: list[int],
        cities: tuple[str, ...],
        without_city: bool,
        decision: Decision,
        topic: str | None,
    ) -> int:
        """Mark the undecided messages among ``ids`` visible with these cities; how many were marked."""
        ...

    async def decided(
        self, decision: Decision, cities: tuple[str, ...] | None = None, without_city: bool = True
    ) -> list[MissedMessage]:
        """Marked so (of these cities; None: of every city, for the export)."""
        ...

    async def erase_texts(self, texts: list[str]) -> int:
        """Delete the missed messages with exactly these words (what /forget finds of a user's)."""
        ...

    async def purge_older_than(self, older_than: timedelta) -> int: ...


class MediatorStore(Protocol):
    """Mediators' accounts and dashboard sessions."""

    async def add(
        self, email: str, name: str, role: Role, cities: list[str], languages: list[str], password: str
    ) -> Mediator: ...

    async def set_active(self, email: str, active: bool) -> Mediator: ...
    async def set_language(self, mediator_id: int, language: str) -> Mediator:
        """The dashboard's language of one mediator (one of ``STAFF_LANGUAGES``)."""
        ...

    async def all(self) -> list[Mediator]: ...
    async def get(self, mediator_id: int) -> Mediator | None: ...
    async def authenticate(self, email: str, password: str) -> Mediator | None: ...
    async def start_session(self, mediator: Mediator) -> tuple[str, str]: ...
    async def session(self, session_id: str) -> tuple[Mediator, str] | None: ...
    async def end_session(self, session_id: str) -> None: ...


class TicketEvents(Protocol):
    """News about tickets for the dashboard's live pages."""

    def publish(self, event: TicketEvent) -> None: ...

    def listen(self, ticket_id: str = "*") -> AbstractAsyncContextManager[asyncio.Queue[TicketEvent]]:
        """Events of one ticket ("*": of every ticket) while the context is open."""
        ...


class RateLimiter(Protocol):
    """How often one key (a session, an address, a user, a city) may act. Async: the bucket may live in
    a store shared by several gateways (Redis)."""

    async def allow(self, key: str) -> float | None:
        """None when allowed (and counted); otherwise the seconds to wait."""
        ...


class AttachmentStore(Protocol):
    """Files users sent for their tickets: bytes under random names, a row each (ticket, user, kind, size,
    type, sha256, when). Erased with the ticket's words (/forget, retention)."""

    async def add(
        self, ticket_id: str, user_key: str, kind: str, content_type: str, content: bytes
    ) -> Attachment: ...

    async def for_ticket(self, ticket_id: str) -> list[Attachment]: ...

    async def read(self, ticket_id: str, attachment_id: int) -> tuple[Attachment, bytes]:
        """The file and its bytes; ``AttachmentNotFound`` unless it is one of that ticket's."""
        ...

    async def erase_user(self, user_key: str) -> int:
        """Every file the user sent, rows and bytes (/forget)."""
        ...

    async def sweep(self) -> int:
        """Bytes no row names any more (a crash between the two, a purge run without the files):
        removed (retention)."""
        ...


class MediaSource(Protocol):
    """A platform's file download (Telegram's getFile, WhatsApp's media endpoint)."""

    async def download(self, ref: MediaRef, max_bytes: int) -> bytes:
        """The file's bytes; ``AttachmentRefused("too_big")`` once it is known to exceed ``max_bytes``."""
        ...
