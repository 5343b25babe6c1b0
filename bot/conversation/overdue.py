"""Overdue tickets announced to the staff group, once each: only new tickets were, and a ticket past
its due time sat in the queue with nobody told. A periodic worker under the gateway's supervisor; with
several gateways each ticket is claimed by exactly one (``TicketOverview.claim_overdue``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.conversation.handoff import STAFF_LANGUAGE, Handoff
from bot.core.clock import utcnow
from bot.core.overview import TicketFacts
from bot.core.ports import TicketOverview

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=1)


@dataclass
class OverdueAlerts:
    overview: TicketOverview
    handoff: Handoff  # the staff group's line and the ticket links
    every: timedelta = EVERY

    async def announce(self) -> int:
        """Claim the tickets that became overdue and tell the staff group of each; how many."""
        if not self.handoff.staff_chat:
            return 0  # no group: nothing is claimed, so setting one later announces what is overdue then
        claimed = await self.overview.claim_overdue(utcnow())
        for ticket in claimed:
            await self.handoff.tell_staff(self.line(ticket))
        if claimed:
            log.info("announced %d overdue tickets", len(claimed))
        return len(claimed)

    def line(self, ticket: TicketFacts) -> str:
        """Id, city, language, topic and the link: nothing the user wrote."""
        tr = self.handoff.translations(STAFF_LANGUAGE)
        return tr._(
            "Overdue request {ticket} ({city}, {language}, {topic}){urgent}: {link}",
            ticket=ticket.id,
            city=ticket.city,
            language=ticket.language,
            topic=ticket.topic or "-",
            urgent=" - " + tr._("URGENT") if ticket.urgent else "",
            link=self.handoff.ticket_link(ticket.id),
        )

    async def run(self, beat: Callable[[], None]) -> None:
        """Forever: a round now and one every ``every``, beating the supervisor's heartbeat."""
        while True:
            beat()
            await self.announce()
            await asyncio.sleep(self.every.total_seconds())
