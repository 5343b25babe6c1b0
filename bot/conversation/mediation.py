"""The mediator's half of a handoff: what the dashboard calls, without HTTP.

Every operation takes the mediator who acts. The ticket store answers ``TicketNotFound`` for a ticket of
a city the mediator does not work for, exactly as for a missing one; the web layer maps it to 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.core.errors import InvalidInput, NotAllowed, RoleRequired
from bot.core.i18n import Translations
from bot.core.messages import Reply, split_user_key
from bot.core.ports import MediatorStore, Outbox, TicketEvents, TicketStore
from bot.core.tickets import Author, Mediator, Outcome, QueueFilter, Role, Status, Ticket, TicketEvent

log = logging.getLogger(__name__)


@dataclass
class Mediation:
    tickets: TicketStore
    mediators: MediatorStore
    events: TicketEvents
    outbox: Outbox
    translations: Translations
    delivering_channels: Collection[str]  # channels the outbox sends on (the web chat has no push)
    wake_sender: Callable[[], None] = lambda: None
    max_text_chars: int = 4000

    # reading -------------------------------------------------------------------------------------
    async def queue(self, mediator: Mediator, wanted: QueueFilter) -> list[Ticket]:
        """The open tickets of the mediator's cities, urgent first (never another city's)."""
        tickets = await self.tickets.queue(mediator, wanted)
        return [t for t in tickets if mediator.may_see(t.city)]

    async def view(self, mediator: Mediator, ticket_id: str, detail: str = "") -> Ticket:
        """A ticket with its transcript; every look is in the audit log."""
        ticket = await self.tickets.get_for(mediator, ticket_id)
        await self.tickets.audit(mediator, "view", ticket.id, detail)
        return ticket

    async def colleagues(self, mediator: Mediator, ticket: Ticket) -> list[Mediator]:
        """Whom a coordinator may give the ticket to (nobody, for a mediator)."""
        if mediator.role is not Role.COORDINATOR:
            return []
        return [m for m in await self.mediators.all() if m.active and m.may_see(ticket.city)]

    # acting --------------------------------------------------------------------------------------
    async def claim(self, mediator: Mediator, ticket_id: str) -> None:
        ticket = await self.tickets.claim(mediator, ticket_id)
        self._publish(ticket, "status")

    async def release(self, mediator: Mediator, ticket_id: str) -> None:
        ticket = await self.tickets.get_for(mediator, ticket_id)
        if not ticket.held:
            raise NotAllowed("nobody holds this ticket: there is nothing to release")
        await self.tickets.release(mediator, ticket.id)
        await self._back_to_assistant(ticket)
        self._publish(ticket, "status")

    async def reply(self, mediator: Mediator, ticket_id: str, text: str) -> None:
        text = self._text(text, "reply")
        ticket = await self.tickets.reply(mediator, ticket_id, text)
        await self.send_to_user(ticket, text)
        self._publish(ticket, "entry")

    async def note(self, mediator: Mediator, ticket_id: str, text: str) -> None:
        text = self._text(text, "note")
        await self.tickets.note(mediator, ticket_id, text)
        self._publish(await self.tickets.get_for(mediator, ticket_id), "note")

    async def close(self, mediator: Mediator, ticket_id: str, outcome: str) -> None:
        try:
            chosen = Outcome(outcome)
        except ValueError:
            raise InvalidInput("Choose an outcome to close the ticket.") from None
        ticket = await self.tickets.get_for(mediator, ticket_id)
        if ticket.status is Status.CLOSED:
            raise NotAllowed("the ticket is closed already")
        await self.tickets.close(mediator, ticket.id, chosen)
        await self._back_to_assistant(ticket)
        self._publish(ticket, "status")

    async def reassign(self, coordinator: Mediator, ticket_id: str, to_mediator: str) -> None:
        if coordinator.role is not Role.COORDINATOR:
            raise RoleRequired("Only a coordinator reassigns tickets.")
        target = await self.mediators.get(int(to_mediator)) if to_mediator.isdigit() else None
        if target is None or not target.active:
            raise InvalidInput("Choose a mediator to give the ticket to.")
        ticket = await self.tickets.reassign(coordinator, ticket_id, target)
        self._publish(ticket, "status")

    # the user's side -----------------------------------------------------------------------------
    async def send_to_user(self, ticket: Ticket, text: str) -> bool:
        """Queue ``text`` for the ticket's user on their own channel; False when nothing was queued."""
        user_key = await self.tickets.user_key_of(ticket)
        if user_key is None:  # the user asked to be forgotten: no address any more
            log.info("ticket %s: no user address, nothing sent", ticket.id)
            return False
        channel, _ = split_user_key(user_key)
        if channel not in self.delivering_channels:
            return False  # the web chat: nothing can be pushed to the page (yet)
        # Outside WhatsApp's 24-hour window the sender sends the approved template and holds the text.
        await self.outbox.queue(channel, user_key, ticket.language, [Reply(text)])
        self.wake_sender()
        return True

    async def _back_to_assistant(self, ticket: Ticket) -> None:
        """After a release or a close: tell the user (in their language) and keep it in the transcript."""
        text = self.translations(ticket.language)._("You are talking with the assistant again.")
        await self.tickets.add_entry(ticket.id, Author.BOT, text)
        await self.send_to_user(ticket, text)

    def _text(self, text: str, what: str) -> str:
        text = text.strip()
        if not text:
            raise InvalidInput(f"Write the {what} first.")
        if len(text) > self.max_text_chars:
            raise InvalidInput(f"The {what} is longer than {self.max_text_chars} characters.")
        return text

    def _publish(self, ticket: Ticket, kind: str) -> None:
        self.events.publish(TicketEvent(ticket.id, kind, ticket.city))
