"""In-memory implementations of the store ports (``bot.core.ports``) for the use cases' unit tests.

They keep the same rules as the SQL adapters where a use case depends on them: per-user order in the
outbox, another city's ticket is ``TicketNotFound``, a closed ticket refuses changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.core.attachments import Attachment
from bot.core.clock import utcnow
from bot.core.errors import AttachmentNotFound, MediatorError, NotAllowed, RoleRequired, TicketNotFound
from bot.core.messages import Inbound, InboundMessage, Letter, Outbound, OutboundKind, Reply
from bot.core.profiles import Profile
from bot.core.tickets import (
    HELD,
    STAFF_LANGUAGES,
    Author,
    Entry,
    Mediator,
    NewTicket,
    Note,
    Outcome,
    QueueFilter,
    Role,
    Status,
    Ticket,
    TicketEvent,
)


class MemoryProfileStore:
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self.writes = 0  # how many times a profile was saved (a turn that changes nothing writes none)

    async def get(self, user_key: str) -> Profile:
        return self.profiles.get(user_key, Profile(user_key))

    async def save(self, profile: Profile) -> None:
        self.writes += 1
        self.profiles[profile.user_key] = profile

    async def erase(self, user_key: str) -> None:
        self.profiles.pop(user_key, None)


@dataclass
class OutboxItem:
    """One row of the memory outbox, as a test reads it."""

    outbound: Outbound
    status: str = "pending"
    error: str | None = None
    platform_message_id: str | None = None

    @property
    def id(self) -> int:
        return self.outbound.id

    @property
    def kind(self) -> str:
        return self.outbound.kind

    @property
    def attempts(self) -> int:
        return self.outbound.attempts

    @property
    def text(self) -> str:
        return self.outbound.reply.text

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [{"title": b.title, "payload": b.payload} for b in self.outbound.reply.buttons]

    def tried(self) -> None:
        self.outbound = replace(self.outbound, attempts=self.outbound.attempts + 1)


class MemoryMailbox:
    """Letters for web-chat pages; ``shown`` letters leave it, as in the SQL mailbox."""

    def __init__(self) -> None:
        self.letters: dict[str, list[Letter]] = {}
        self._ids = itertools.count(1)

    async def post(self, user_key: str, language: str, text: str, from_person: bool) -> None:
        letter = Letter(next(self._ids), language, text, from_person, utcnow())
        self.letters.setdefault(user_key, []).append(letter)

    async def waiting(self, user_key: str, after: int = 0) -> list[Letter]:
        return [letter for letter in self.letters.get(user_key, []) if letter.id > after]

    async def shown(self, user_key: str, up_to: int) -> int:
        letters = self.letters.get(user_key, [])
        self.letters[user_key] = [letter for letter in letters if letter.id > up_to]
        return len(letters) - len(self.letters[user_key])


class MemoryOutbox:
    def __init__(self) -> None:
        self.items: list[OutboxItem] = []
        self.inbox: MemoryInbox | None = None  # set by the inbox that shares this outbox's "database"
        self._ids = itertools.count(1)

    def rows(self, user_key: str) -> list[OutboxItem]:
        """What a test asserts on: the user's replies in the order they were queued."""
        return [item for item in self.items if item.outbound.user_key == user_key]

    async def queue(
        self, channel: str, user_key: str, language: str, replies: list[Reply], kind: str = "reply"
    ) -> None:
        now = utcnow()
        for reply in replies:
            outbound = Outbound(
                next(self._ids), channel, user_key, language, str(OutboundKind(kind).value), reply, 0, now
            )
            self.items.append(OutboxItem(outbound))

    async def due(self, now: datetime) -> list[Outbound]:
        first: dict[str, OutboxItem] = {}
        for item in self.items:
            if item.status == "pending":
                first.setdefault(item.outbound.user_key, item)
        return [i.outbound for i in first.values() if i.outbound.next_attempt_at <= now]

    def _item(self, outbound_id: int) -> OutboxItem:
        return next(item for item in self.items if item.outbound.id == outbound_id)

    async def claim(self, outbound_id: int) -> bool:
        return self._item(outbound_id).status == "pending"  # one process: nobody else sends

    async def sent(self, outbound_id: int, platform_message_id: str) -> None:
        item = self._item(outbound_id)
        if item.outbound.kind == OutboundKind.EPHEMERAL:
            self.items.remove(item)
            if self.inbox is not None:  # the answered /forget goes with its confirmation
                user = item.outbound.user_key
                rows = self.inbox.rows
                self.inbox.rows = [(i, s) for i, s in rows if i.message.user_key != user or s != "done"]
            return
        item.status, item.platform_message_id, item.error = "sent", platform_message_id, None
        item.tried()

    async def part_sent(self, outbound_id: int, parts_sent: int, platform_message_id: str) -> None:
        item = self._item(outbound_id)
        item.outbound = replace(item.outbound, parts_sent=parts_sent)
        item.platform_message_id = platform_message_id

    async def retry(self, outbound_id: int, delay: float, error: str) -> None:
        item = self._item(outbound_id)
        later = utcnow() + timedelta(seconds=delay)
        item.outbound = replace(item.outbound, attempts=item.outbound.attempts + 1, next_attempt_at=later)
        item.error = error

    async def failed(self, outbound_id: int, error: str) -> None:
        item = self._item(outbound_id)
        item.status, item.error = "failed", error
        item.tried()

    async def hold(self, user_key: str) -> None:
        for item in self.rows(user_key):
            if item.status == "pending" and item.outbound.kind != OutboundKind.TEMPLATE:
                item.status = "held"

    async def delivery(self, platform_message_id: str, status: str, error: str | None) -> str | None:
        for item in self.items:
            if item.platform_message_id == platform_message_id:
                item.error = error or item.error
                return item.outbound.user_key
        return None

    async def reopen(self, platform_message_id: str) -> None:
        for item in self.items:
            if item.platform_message_id == platform_message_id and item.outbound.kind == OutboundKind.REPLY:
                item.status = "held"
                outbound = item.outbound
                waiting = [
                    i
                    for i in self.rows(outbound.user_key)
                    if i.outbound.kind == OutboundKind.TEMPLATE and i.status == "pending"
                ]
                if not waiting:
                    await self.queue(
                        outbound.channel, outbound.user_key, outbound.language, [Reply("")], "template"
                    )
                return

    async def erase_user(self, user_key: str) -> None:
        self.items = [item for item in self.items if item.outbound.user_key != user_key]

    async def purge_sent(self, older_than: timedelta) -> int:
        limit = utcnow() - older_than
        old = [i for i in self.items if i.status in ("sent", "failed") and i.outbound.next_attempt_at < limit]
        self.items = [i for i in self.items if i not in old]
        return len(old)


class MemoryInbox:
    """The inbox; ``finish`` queues the replies in the given outbox, as the SQL inbox does."""

    def __init__(self, outbox: MemoryOutbox) -> None:
        self.outbox = outbox
        outbox.inbox = self
        self.rows: list[tuple[Inbound, str]] = []  # (inbound, status)
        self.due_at: dict[int, datetime] = {}  # inbound id -> when it may be tried again
        self.errors: dict[int, str] = {}  # inbound id -> why it failed or was parked
        self.renewed: list[list[int]] = []  # the ids of each renewal of claims
        self._ids = itertools.count(1)

    async def receive(self, message: InboundMessage) -> bool:
        if any(
            (i.message.channel, i.message.platform_id) == (message.channel, message.platform_id)
            for i, _ in self.rows
        ):
            return False
        stamped = replace(message, received_at=message.received_at or utcnow())
        self.rows.append((Inbound(next(self._ids), stamped, 0), "pending"))
        return True

    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]:
        return [await self.receive(message) for message in messages]

    async def pending_users(self) -> list[str]:
        now = utcnow()
        due = [i for i, s in self.rows if s == "pending" and self.due_at.get(i.id, now) <= now]
        return list(dict.fromkeys(i.message.user_key for i in due))

    async def next_for(self, user_key: str) -> Inbound | None:
        pending = [i for i, s in self.rows if s == "pending" and i.message.user_key == user_key]
        if not pending or self.due_at.get(pending[0].id, utcnow()) > utcnow():
            return None
        return pending[0]

    async def renew(self, inbound_ids: list[int]) -> None:
        self.renewed.append(list(inbound_ids))  # one process: nobody else could take them

    async def postpone(self, inbound_id: int, seconds: float) -> None:
        self._again(inbound_id, seconds, failed=False)

    async def failed(self, inbound_id: int, seconds: float, reason: str) -> None:
        self._again(inbound_id, seconds, failed=True)
        self.errors[inbound_id] = reason

    def _again(self, inbound_id: int, seconds: float, failed: bool) -> None:
        def tried(i: Inbound) -> Inbound:
            return replace(i, attempts=i.attempts + 1, failures=i.failures + failed)

        self.rows = [(tried(i) if i.id == inbound_id else i, s) for i, s in self.rows]
        self.due_at[inbound_id] = utcnow() + timedelta(seconds=seconds)

    async def park(self, inbound: Inbound, reason: str, language: str, replies: list[Reply]) -> None:
        self.rows = [(i, "parked" if i.id == inbound.id else s) for i, s in self.rows]
        self.errors[inbound.id] = reason
        message = inbound.message
        await self.outbox.queue(message.channel, message.user_key, language, replies)

    async def finish(
        self, inbound: Inbound, language: str, replies: list[Reply], ephemeral: bool = False
    ) -> None:
        self.rows = [(i, "done" if i.id == inbound.id else s) for i, s in self.rows]
        kind = "ephemeral" if ephemeral else "reply"
        message = inbound.message
        await self.outbox.queue(message.channel, message.user_key, language, replies, kind)

    async def last_inbound_at(self, user_key: str) -> datetime | None:
        times = [i.message.received_at for i, _ in self.rows if i.message.user_key == user_key]
        return max((t for t in times if t is not None), default=None)

    async def erase_user(self, user_key: str) -> None:
        self.rows = [(i, s) for i, s in self.rows if i.message.user_key != user_key or s == "pending"]

    async def purge_answered(self, older_than: timedelta) -> int:
        limit = utcnow() - older_than
        kept = [
            (i, s)
            for i, s in self.rows
            if s not in ("done", "parked") or (i.message.received_at or limit) >= limit
        ]
        purged, self.rows = len(self.rows) - len(kept), kept
        return purged


@dataclass
class MemoryTranscript:
    """Rasa's tracker, as a dict of conversations."""

    conversations: dict[str, list[Entry]] = field(default_factory=dict)

    async def conversation(self, user_key: str, limit: int = 40) -> list[Entry]:
        return self.conversations.get(user_key, [])[-limit:]

    async def erase(self, user_key: str) -> int:
        return len(self.conversations.pop(user_key, []))

    async def purge_older_than(self, older_than: timedelta) -> int:
        limit, purged = utcnow() - older_than, 0
        for user_key, entries in self.conversations.items():
            kept = [entry for entry in entries if entry.at >= limit]
            purged += len(entries) - len(kept)
            self.conversations[user_key] = kept
        return purged


class MemoryTicketEvents:
    """Records what was published (and hands it to listeners, like the real broker)."""

    def __init__(self) -> None:
        self.published: list[TicketEvent] = []
        self._queues: dict[str, list[asyncio.Queue[TicketEvent]]] = {}

    def publish(self, event: TicketEvent) -> None:
        self.published.append(event)
        for key in (event.ticket_id, "*"):
            for queue in self._queues.get(key, []):
                queue.put_nowait(event)

    @asynccontextmanager
    async def listen(self, ticket_id: str = "*") -> AsyncIterator[asyncio.Queue[TicketEvent]]:
        queue: asyncio.Queue[TicketEvent] = asyncio.Queue()
        self._queues.setdefault(ticket_id, []).append(queue)
        try:
            yield queue
        finally:
            self._queues[ticket_id].remove(queue)


class MemoryTicketStore:
    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.user_keys: dict[str, str] = {}  # ref -> user key
        self.audit_log: list[tuple[int | None, str, str | None, str]] = []
        self.audit_times: list[datetime] = []
        self.opened: dict[str, str] = {}  # inbound message key -> ticket id
        self._counter = itertools.count(1)

    async def open(self, new: NewTicket) -> Ticket:
        now = utcnow()
        ticket_id = f"{new.province}-{now.year}-{next(self._counter):04d}"
        ref = next(
            (r for r, key in self.user_keys.items() if key == new.user_key), f"ref{len(self.user_keys)}"
        )
        self.user_keys[ref] = new.user_key
        transcript = list(new.transcript)
        if new.details:
            transcript.append(Entry(Author.USER, new.details, now))
        self.tickets[ticket_id] = Ticket(
            ticket_id,
            new.city,
            new.language,
            new.topic,
            new.urgent,
            new.channel,
            ref,
            Status.NEW,
            None,
            now,
            new.due_at,
            new.details,
            transcript=transcript,
        )
        if new.opened_by:
            self.opened[new.opened_by] = ticket_id
        return self.tickets[ticket_id]

    async def opened_by(self, message_key: str) -> Ticket | None:
        ticket_id = self.opened.get(message_key)
        return self.tickets.get(ticket_id) if ticket_id else None

    async def mark_notified(self, ticket_id: str) -> None:
        self._change(ticket_id, staff_notified=True)

    async def get(self, ticket_id: str) -> Ticket:
        if ticket_id not in self.tickets:
            raise TicketNotFound(ticket_id)
        return self.tickets[ticket_id]

    async def get_for(self, mediator: Mediator, ticket_id: str) -> Ticket:
        ticket = await self.get(ticket_id)
        if not mediator.may_see(ticket.city):
            raise TicketNotFound(ticket_id)
        return ticket

    async def queue(self, mediator: Mediator, wanted: QueueFilter) -> list[Ticket]:
        found = [
            t for t in self.tickets.values() if t.city in mediator.cities and t.status is not Status.CLOSED
        ]
        return sorted(found, key=lambda t: (not t.urgent, t.due_at, t.id))

    async def open_for_user(self, user_key: str) -> list[Ticket]:
        refs = {ref for ref, key in self.user_keys.items() if key == user_key}
        return [t for t in self.tickets.values() if t.user_ref in refs and t.status is not Status.CLOSED]

    async def opened_since(
        self, since: datetime, user_key: str | None = None, city: str | None = None
    ) -> int:
        refs = {ref for ref, key in self.user_keys.items() if key == user_key}
        return sum(
            1
            for t in self.tickets.values()
            if t.created_at >= since
            and (user_key is None or t.user_ref in refs)
            and (city is None or t.city == city)
        )

    async def held_for_user(self, user_key: str) -> Ticket | None:
        held = [t for t in await self.open_for_user(user_key) if t.status in HELD]
        return held[0] if held else None

    async def user_key_of(self, ticket: Ticket) -> str | None:
        return self.user_keys.get(ticket.user_ref)

    def _change(self, ticket_id: str, **changes: object) -> Ticket:
        self.tickets[ticket_id] = replace(self.tickets[ticket_id], **changes)  # type: ignore[arg-type]
        return self.tickets[ticket_id]

    async def add_entry(
        self,
        ticket_id: str,
        author: Author,
        text: str,
        mediator_id: int | None = None,
        status: Status | None = None,
    ) -> None:
        ticket = await self.get(ticket_id)
        entry = Entry(author, text, utcnow(), ticket.assignee if mediator_id else None)
        self._change(ticket_id, transcript=[*ticket.transcript, entry], status=status or ticket.status)

    async def _open_for(self, mediator: Mediator, ticket_id: str) -> Ticket:
        ticket = await self.get_for(mediator, ticket_id)
        if ticket.status is Status.CLOSED:
            raise NotAllowed("the ticket is closed")
        return ticket

    async def claim(self, mediator: Mediator, ticket_id: str) -> Ticket:
        await self._open_for(mediator, ticket_id)
        return self._change(
            ticket_id, assignee=mediator.name, assignee_id=mediator.id, status=Status.ASSIGNED
        )

    async def release(self, mediator: Mediator, ticket_id: str) -> Ticket:
        await self._open_for(mediator, ticket_id)
        return self._change(ticket_id, assignee=None, assignee_id=None, status=Status.NEW)

    async def reassign(self, coordinator: Mediator, ticket_id: str, to: Mediator) -> Ticket:
        if coordinator.role is not Role.COORDINATOR:
            raise RoleRequired("only a coordinator reassigns tickets")
        ticket = await self.get_for(coordinator, ticket_id)
        if ticket.status is Status.CLOSED:
            raise NotAllowed("the ticket is closed: reassigning it would reopen it")
        if not to.may_see(ticket.city):
            raise NotAllowed("that mediator does not work for this city")
        return self._change(ticket_id, assignee=to.name, assignee_id=to.id, status=Status.ASSIGNED)

    async def reply(self, mediator: Mediator, ticket_id: str, text: str) -> Ticket:
        ticket = await self._open_for(mediator, ticket_id)
        entry = Entry(Author.MEDIATOR, text, utcnow(), mediator.name)
        return self._change(
            ticket_id,
            transcript=[*ticket.transcript, entry],
            status=Status.WAITING_FOR_USER,
            assignee=ticket.assignee or mediator.name,
            assignee_id=ticket.assignee_id or mediator.id,
        )

    async def note(self, mediator: Mediator, ticket_id: str, text: str) -> None:
        ticket = await self.get_for(mediator, ticket_id)
        self._change(ticket_id, notes=[*ticket.notes, Note(text, utcnow(), mediator.name)])

    async def close(self, mediator: Mediator, ticket_id: str, outcome: Outcome) -> Ticket:
        await self._open_for(mediator, ticket_id)
        return self._change(ticket_id, status=Status.CLOSED, outcome=outcome, closed_at=utcnow())

    async def classify(
        self, mediator: Mediator, ticket_id: str, topic: str | None, urgent: bool, due_at: datetime
    ) -> Ticket:
        before = await self._open_for(mediator, ticket_id)
        changed = self._change(ticket_id, topic=topic, urgent=urgent, due_at=due_at)
        detail = f"topic {before.topic or '-'} -> {topic or '-'}, urgent {before.urgent} -> {urgent}"
        await self.audit(mediator, "classify", ticket_id, detail)
        return changed

    async def audit(
        self, mediator: Mediator | None, action: str, ticket_id: str | None, detail: str = ""
    ) -> None:
        self.audit_log.append((mediator.id if mediator else None, action, ticket_id, detail))
        self.audit_times.append(utcnow())

    async def erase_user(self, user_key: str) -> int:
        refs = {ref for ref, key in self.user_keys.items() if key == user_key}
        mine = [t for t in self.tickets.values() if t.user_ref in refs]
        for ticket in mine:
            self._change(ticket.id, user_ref="", details="", transcript=[], notes=[], status=Status.CLOSED)
        for ref in refs:
            del self.user_keys[ref]
        return len(mine)

    async def purge_closed(self, older_than: timedelta) -> int:
        limit = utcnow() - older_than
        old = [t for t in self.tickets.values() if t.closed_at and t.closed_at < limit]
        for ticket in old:
            self._change(ticket.id, details="", transcript=[], notes=[], user_ref="")
        needed = {t.user_ref for t in self.tickets.values()}
        self.user_keys = {ref: key for ref, key in self.user_keys.items() if ref in needed}
        return len(old)

    async def purge_audit(self, older_than: timedelta) -> int:
        limit = utcnow() - older_than
        pairs = zip(self.audit_log, self.audit_times, strict=True)
        kept = [(entry, at) for entry, at in pairs if at >= limit]
        purged = len(self.audit_log) - len(kept)
        self.audit_log, self.audit_times = [e for e, _ in kept], [at for _, at in kept]
        return purged


class MemoryMediatorStore:
    """Accounts without passwords (the SQL store's own tests cover hashing and sessions)."""

    def __init__(self) -> None:
        self.mediators: dict[int, Mediator] = {}

    async def add(
        self, email: str, name: str, role: Role, cities: list[str], languages: list[str], password: str
    ) -> Mediator:
        if any(m.email == email for m in self.mediators.values()):
            raise MediatorError(f"a mediator with e-mail {email} exists already")
        mediator = Mediator(len(self.mediators) + 1, email, name, role, tuple(cities), tuple(languages))
        self.mediators[mediator.id] = mediator
        return mediator

    async def set_active(self, email: str, active: bool) -> Mediator:
        mediator = next(m for m in self.mediators.values() if m.email == email)
        self.mediators[mediator.id] = replace(mediator, active=active)
        return self.mediators[mediator.id]

    async def set_language(self, mediator_id: int, language: str) -> Mediator:
        if language not in STAFF_LANGUAGES:
            raise MediatorError(f"the dashboard speaks {', '.join(STAFF_LANGUAGES)} only")
        self.mediators[mediator_id] = replace(self.mediators[mediator_id], language=language)
        return self.mediators[mediator_id]

    async def all(self) -> list[Mediator]:
        return list(self.mediators.values())

    async def get(self, mediator_id: int) -> Mediator | None:
        return self.mediators.get(mediator_id)

    async def authenticate(self, email: str, password: str) -> Mediator | None:
        return next((m for m in self.mediators.values() if m.email == email and m.active), None)

    async def start_session(self, mediator: Mediator) -> tuple[str, str]:
        return f"session-{mediator.id}", f"csrf-{mediator.id}"

    async def session(self, session_id: str) -> tuple[Mediator, str] | None:
        mediator = self.mediators.get(int(session_id.removeprefix("session-")))
        return (mediator, f"csrf-{mediator.id}") if mediator else None

    async def end_session(self, session_id: str) -> None:
        return None


class MemoryAttachmentStore:
    """Files as bytes in a dict; ``read`` of another ticket's file is ``AttachmentNotFound``, as in SQL."""

    def __init__(self) -> None:
        self.files: dict[int, tuple[Attachment, str, bytes]] = {}  # id -> (attachment, user key, bytes)
        self._ids = itertools.count(1)

    async def add(
        self, ticket_id: str, user_key: str, kind: str, content_type: str, content: bytes
    ) -> Attachment:
        digest, size = hashlib.sha256(content).hexdigest(), len(content)
        attachment = Attachment(next(self._ids), ticket_id, kind, size, content_type, digest, utcnow())
        self.files[attachment.id] = (attachment, user_key, content)
        return attachment

    async def for_ticket(self, ticket_id: str) -> list[Attachment]:
        return [attachment for attachment, _, _ in self.files.values() if attachment.ticket_id == ticket_id]

    async def read(self, ticket_id: str, attachment_id: int) -> tuple[Attachment, bytes]:
        found = self.files.get(attachment_id)
        if found is None or found[0].ticket_id != ticket_id:
            raise AttachmentNotFound(ticket_id)
        return found[0], found[2]

    async def erase_user(self, user_key: str) -> int:
        theirs = [key for key, (_, user, _) in self.files.items() if user == user_key]
        for key in theirs:
            del self.files[key]
        return len(theirs)

    async def sweep(self) -> int:
        return 0  # nothing is ever left without its row here
