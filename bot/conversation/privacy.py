"""What a user may ask of their data (/status, /forget), and how long the desk keeps it (retention)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.core.i18n import Translations
from bot.core.messages import Reply
from bot.core.ports import Inbox, Outbox, ProfileStore, TicketStore, Transcript

log = logging.getLogger(__name__)


@dataclass
class Privacy:
    tickets: TicketStore
    transcript: Transcript
    inbox: Inbox
    outbox: Outbox
    profiles: ProfileStore
    translations: Translations

    async def status(self, user_key: str, language: str) -> list[Reply]:
        """The user's open requests, in their language (what /status answers)."""
        tr = self.translations(language)
        tickets = await self.tickets.open_for_user(user_key)
        if not tickets:
            return [Reply(tr._("You have no open requests."))]
        states = {
            "new": tr._("waiting for a person"),
            "assigned": tr._("a person is working on it"),
            "waiting_for_user": tr._("waiting for your answer"),
        }
        lines = [tr._("Your open requests:")]
        for ticket in tickets:
            state = states.get(ticket.status.value, ticket.status.value)
            lines.append(tr._("{ticket}: {state}", ticket=ticket.id, state=state))
        return [Reply("\n".join(lines))]

    async def forget(self, user_key: str) -> None:
        """Erase the user's conversation everywhere it lives; tickets keep topic, city and outcome."""
        erased = await self.tickets.erase_user(user_key)
        await self.transcript.erase(user_key)
        await self.inbox.erase_user(user_key)
        await self.outbox.erase_user(user_key)
        await self.profiles.erase(user_key)
        log.info("erased a user's data (%d tickets kept for statistics only)", erased)


async def purge_closed_tickets(tickets: TicketStore, older_than: timedelta) -> int:
    """Retention: the words of tickets closed more than ``older_than`` ago are deleted."""
    return await tickets.purge_closed(older_than)
