"""The mediator's half of a handoff: what the dashboard calls, without HTTP.

Every operation takes the mediator who acts. The ticket store answers ``TicketNotFound`` for a ticket of
a city the mediator does not work for, exactly as for a missing one; the web layer maps it to 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.attachments import Attachment
from bot.core.clock import add_working_days, utcnow
from bot.core.errors import AttachmentNotFound, InvalidInput, NotAllowed, RoleRequired
from bot.core.i18n import Translations
from bot.core.messages import WEB_CHAT, Reply, split_user_key
from bot.core.ports import AttachmentStore, Mailbox, MediatorStore, Outbox, TicketEvents, TicketStore
from bot.core.tickets import Author, Mediator, Outcome, QueueFilter, Role, Status, Ticket, TicketEvent

log = logging.getLogger(__name__)
TICKET_ID_CHARS = 20  # CE-2026-0042 and room to spare: the audit log's column
URGENT_WITHIN = timedelta(hours=4)  # as a ticket opened urgent (bot/conversation/handoff.py)


@dataclass
class Mediation:
    tickets: TicketStore
    mediators: MediatorStore
    events: TicketEvents
    outbox: Outbox
    translations: Translations
    wake_sender: Callable[[], None] = lambda: None
    max_text_chars: int = 4000
    mailbox: Mailbox | None = None  # for the channels we cannot push to: the user's page collects
    mailbox_channels: Collection[str] = (WEB_CHAT,)
    wake_page: Callable[[str], None] = lambda user_key: None  # a page of this user may be waiting
    topics: Collection[str] = field(default_factory=tuple)  # the topic ids a ticket may be given
    working_days: Callable[[str], int] = lambda city: 2  # the city's promise for a non-urgent answer
    attachments: AttachmentStore | None = None  # the photos and PDFs users sent for their tickets

    # who works: the audit log says when each mediator came and went ------------------------------
    async def logged_in(self, mediator: Mediator) -> None:
        await self.tickets.audit(mediator, "login", None)

    async def logged_out(self, mediator: Mediator) -> None:
        await self.tickets.audit(mediator, "logout", None)

    async def login_failed(self, address: str) -> None:
        """A failed or throttled login, with where it came from (never the e-mail typed: people paste
        passwords into that field)."""
        await self.tickets.audit(None, "login_failed", None, f"from {address}")

    async def refused(
        self, mediator: Mediator | None, what: str, ticket_id: str | None, address: str
    ) -> None:
        """A request the dashboard refused (another city's ticket, a form without its token)."""
        known_length = ticket_id[:TICKET_ID_CHARS] if ticket_id else None  # a guessed id may be any length
        await self.tickets.audit(mediator, f"refused:{what}", known_length, f"from {address}")

    # reading -------------------------------------------------------------------------------------
    async def queue(self, mediator: Mediator, wanted: QueueFilter) -> list[Ticket]:
        """The open tickets of the mediator's cities, urgent first (never another city's)."""
        tickets = await self.tickets.queue(mediator, wanted)
        return [t for t in tickets if mediator.may_see(t.city)]

    async def ticket(self, mediator: Mediator, ticket_id: str) -> Ticket:
        """A ticket of the mediator's cities (``TicketNotFound`` for any other)."""
        return await self.tickets.get_for(mediator, ticket_id)

    async def view(self, mediator: Mediator, ticket_id: str, detail: str = "") -> Ticket:
        """A ticket with its transcript, for the mediator to read: every look is in the audit log."""
        ticket = await self.tickets.get_for(mediator, ticket_id)
        await self.tickets.audit(mediator, "view", ticket.id, detail)
        return ticket

    async def files(self, mediator: Mediator, ticket: Ticket) -> list[Attachment]:
        """The files of a ticket the mediator is viewing (``view`` checked their cities)."""
        if self.attachments is None or not mediator.may_see(ticket.city):
            return []
        return await self.attachments.for_ticket(ticket.id)

    async def file(self, mediator: Mediator, ticket_id: str, attachment_id: int) -> tuple[Attachment, bytes]:
        """One file of a ticket of the mediator's cities (``TicketNotFound`` for any other), audited."""
        ticket = await self.tickets.get_for(mediator, ticket_id)
        if self.attachments is None:
            raise AttachmentNotFound(ticket.id)
        found = await self.attachments.read(ticket.id, attachment_id)
        await self.tickets.audit(mediator, "attachment", ticket.id, str(attachment_id))
        return found

    async def colleagues(self, mediator: Mediator, ticket: Ticket) -> list[Mediator]:
        """Whom a coordinator may give the ticket to (nobody, for a mediator)."""
        if mediator.role is not Role.COORDINATOR:
            return []
        return [m for m in await self.mediators.all() if m.active and m.may_see(ticket.city)]

    # acting: each first checks the mediator may see the ticket (403 before any other answer) --------
    async def claim(self, mediator: Mediator, ticket_id: str) -> None:
        ticket = await self.ticket(mediator, ticket_id)
        await self.tickets.claim(mediator, ticket.id)
        self._publish(ticket, "status")

    async def release(self, mediator: Mediator, ticket_id: str) -> None:
        ticket = await self.ticket(mediator, ticket_id)
        self._holder_or_coordinator(mediator, ticket, "release")
        if not ticket.held:
            raise NotAllowed("nobody holds this ticket: there is nothing to release")
        await self.tickets.release(mediator, ticket.id)
        await self._back_to_assistant(ticket)
        self._publish(ticket, "status")

    async def reply(self, mediator: Mediator, ticket_id: str, text: str) -> None:
        ticket = await self.ticket(mediator, ticket_id)
        text = self._text(text, "reply")
        await self.tickets.reply(mediator, ticket.id, text)
        await self.send_to_user(ticket, text)
        self._publish(ticket, "entry")

    async def note(self, mediator: Mediator, ticket_id: str, text: str) -> None:
        ticket = await self.ticket(mediator, ticket_id)
        await self.tickets.note(mediator, ticket.id, self._text(text, "note"))
        self._publish(ticket, "note")

    async def close(self, mediator: Mediator, ticket_id: str, outcome: str) -> None:
        ticket = await self.ticket(mediator, ticket_id)
        self._holder_or_coordinator(mediator, ticket, "close")
        try:
            chosen = Outcome(outcome)
        except ValueError:
            raise InvalidInput("Choose an outcome to close the ticket.") from None
        if ticket.status is Status.CLOSED:
            raise NotAllowed("the ticket is closed already")
        await self.tickets.close(mediator, ticket.id, chosen)
        await self._back_to_assistant(ticket)
        self._publish(ticket, "status")

    async def reassign(self, coordinator: Mediator, ticket_id: str, to_mediator: str) -> None:
        ticket = await self.ticket(coordinator, ticket_id)
        if coordinator.role is not Role.COORDINATOR:
            raise RoleRequired("Only a coordinator reassigns tickets.")
        target = await self.mediators.get(int(to_mediator)) if to_mediator.isdigit() else None
        if target is None or not target.active:
            raise InvalidInput("Choose a mediator to give the ticket to.")
        await self.tickets.reassign(coordinator, ticket.id, target)
        self._publish(ticket, "status")

    async def classify(self, mediator: Mediator, ticket_id: str, topic: str, urgent: str) -> None:
        """The mediator read the ticket and knows better than the bot: topic and urgency change, and so
        does the due time (urgent: within 4 hours from now, unless it was due sooner; not urgent: the
        city's working days from when the ticket was opened)."""
        ticket = await self.ticket(mediator, ticket_id)
        if ticket.status is Status.CLOSED:
            raise NotAllowed("the ticket is closed")
        if topic and topic not in self.topics:
            raise InvalidInput("Choose a topic from the list.")
        if urgent not in ("", "yes", "no", "on", "true", "false"):
            raise InvalidInput("Urgent is yes or no.")
        is_urgent = urgent in ("yes", "on", "true")
        if is_urgent:
            due = min(ticket.due_at, utcnow() + URGENT_WITHIN)
        else:
            due = add_working_days(ticket.created_at, self.working_days(ticket.city))
        await self.tickets.classify(mediator, ticket.id, topic or None, is_urgent, due)
        self._publish(ticket, "status")

    # the user's side -----------------------------------------------------------------------------
    async def send_to_user(self, ticket: Ticket, text: str, from_person: bool = True) -> bool:
        """Queue ``text`` for the ticket's user on their own channel; False when nothing was queued."""
        user_key = await self.tickets.user_key_of(ticket)
        if user_key is None:  # the user asked to be forgotten: no address any more
            log.info("ticket %s: no user address, nothing sent", ticket.id)
            return False
        channel, _ = split_user_key(user_key)
        if channel in self.mailbox_channels:
            if self.mailbox is None:
                return False
            await self.mailbox.post(user_key, ticket.language, text, from_person)
            self.wake_page(user_key)
            return True
        # Outside WhatsApp's 24-hour window the sender sends the approved template and holds the text.
        await self.outbox.queue(channel, user_key, ticket.language, [Reply(text)])
        self.wake_sender()
        return True

    async def _back_to_assistant(self, ticket: Ticket) -> None:
        """After a release or a close: tell the user (in their language) and keep it in the transcript."""
        text = self.translations(ticket.language)._("You are talking with the assistant again.")
        await self.tickets.add_entry(ticket.id, Author.BOT, text)
        await self.send_to_user(ticket, text, from_person=False)

    @staticmethod
    def _holder_or_coordinator(mediator: Mediator, ticket: Ticket, action: str) -> None:
        """A claimed ticket is its holder's: a colleague may not close or release it under their feet."""
        held_by_another = ticket.assignee_id is not None and ticket.assignee_id != mediator.id
        if held_by_another and mediator.role is not Role.COORDINATOR:
            holder = ticket.assignee or "the mediator who holds it"
            raise RoleRequired(f"Only {holder} or a coordinator can {action} this ticket.")

    def _text(self, text: str, what: str) -> str:
        text = text.strip()
        if not text:
            raise InvalidInput(f"Write the {what} first.")
        if len(text) > self.max_text_chars:
            raise InvalidInput(f"The {what} is longer than {self.max_text_chars} characters.")
        return text

    def _publish(self, ticket: Ticket, kind: str) -> None:
        self.events.publish(TicketEvent(ticket.id, kind, ticket.city))
