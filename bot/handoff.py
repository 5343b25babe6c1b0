"""The gateway's side of a handoff: opening the ticket, routing a held conversation to the mediator,
/status and /forget. The dialogue (consent, the few words) happens in Rasa (bot/dialogue/flows.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.catalog import Catalog
from bot.channels.base import InboundMessage
from bot.dialogue.turn import Reply
from bot.i18n import Translations
from bot.knowledge import KnowledgeStore
from bot.mailbox import Mailbox, utcnow
from bot.profiles import Profile, ProfileStore
from bot.tickets.events import TicketEvent, TicketEvents
from bot.tickets.model import Author
from bot.tickets.store import NewTicket, TicketStore
from bot.tracker import RasaTracker

log = logging.getLogger(__name__)
URGENT_WITHIN = timedelta(hours=4)
STAFF_LANGUAGE = "it"


def add_working_days(start: datetime, days: int) -> datetime:
    moment = start
    while days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


@dataclass
class Handoff:
    tickets: TicketStore
    tracker: RasaTracker
    events: TicketEvents
    mailbox: Mailbox
    profiles: ProfileStore
    translations: Translations
    catalog: Catalog
    knowledge: KnowledgeStore
    staff_chat: str = ""  # "telegram:<chat id>" of the staff group, or ""
    dashboard_url: str = ""

    async def to_mediator(self, message: InboundMessage) -> bool:
        """While a mediator holds the user's ticket, their message goes there and the bot stays quiet."""
        ticket = await self.tickets.held_for_user(message.user_key)
        if ticket is None or not message.text:
            return False
        await self.tickets.add_entry(ticket.id, Author.USER, message.text)
        self.events.publish(TicketEvent(ticket.id, "entry", ticket.city))
        return True

    def working_days(self, city: str) -> int:
        knowledge = self.knowledge.current().cities.get(city)
        return knowledge.handoff.answer_within_working_days if knowledge else 2

    async def open_ticket(self, message: InboundMessage, profile: Profile, language: str) -> list[Reply]:
        """The user's few words (or Skip) arrived: open the ticket and say what happens next."""
        tr = self.translations(language)
        city_id = profile.city or ""
        if city_id not in self.catalog.cities:
            return [Reply(tr._("Which city are you in? I will tell you how to reach our team."))]
        city = self.catalog.city(city_id)
        now = utcnow()
        days = self.working_days(city.id)
        due = now + URGENT_WITHIN if profile.handoff_urgent else add_working_days(now, days)
        details = "" if message.is_payload else message.text
        transcript = tuple(await self.tracker.conversation(message.user_key))
        ticket = await self.tickets.open(
            NewTicket(
                city=city.id,
                province=city.province,
                language=language,
                topic=profile.handoff_topic,
                urgent=profile.handoff_urgent,
                channel=message.channel,
                user_key=message.user_key,
                details=details,
                due_at=due,
                transcript=transcript,
            )
        )
        self.events.publish(TicketEvent(ticket.id, "new", ticket.city))
        await self._notify_staff(ticket.id, ticket.city, ticket.language, ticket.topic, ticket.urgent)
        log.info("ticket %s opened (%s, %s)", ticket.id, ticket.city, ticket.language)
        when = (
            tr._("today, as soon as possible")
            if profile.handoff_urgent
            else tr._("within {days} working days", days=days)
        )
        text = tr._(
            "Your request number is {ticket}. A person from the one-stop shop in {city} will answer you "
            "here {when}. You can write /status to see your requests.",
            ticket=ticket.id,
            city=city.name,
            when=when,
        )
        replies = [Reply(text)]
        if profile.handoff_urgent:
            replies.append(Reply(tr._("If you are in danger, call 112. It is free.")))
        return replies

    async def _notify_staff(
        self, ticket_id: str, city: str, language: str, topic: str | None, urgent: bool
    ) -> None:
        if not self.staff_chat:
            return
        tr = self.translations(STAFF_LANGUAGE)
        text = tr._(
            "New request {ticket} ({city}, {language}, {topic}){urgent}: {link}",
            ticket=ticket_id,
            city=city,
            language=language,
            topic=topic or "-",
            urgent=" - " + tr._("URGENT") if urgent else "",
            link=f"{self.dashboard_url.rstrip('/')}/dashboard/tickets/{ticket_id}",
        )
        channel = self.staff_chat.split(":", 1)[0]
        await self.mailbox.queue(channel, self.staff_chat, STAFF_LANGUAGE, [Reply(text)])

    async def status(self, user_key: str, language: str) -> list[Reply]:
        tr = self.translations(language)
        tickets = await self.tickets.open_for_user(user_key)
        if not tickets:
            return [Reply(tr._("You have no open requests."))]
        lines = [tr._("Your open requests:")]
        for ticket in tickets:
            state = {
                "new": tr._("waiting for a person"),
                "assigned": tr._("a person is working on it"),
                "waiting_for_user": tr._("waiting for your answer"),
            }.get(ticket.status.value, ticket.status.value)
            lines.append(tr._("{ticket}: {state}", ticket=ticket.id, state=state))
        return [Reply("\n".join(lines))]

    async def forget(self, user_key: str) -> None:
        """Erase the user's conversation everywhere it lives; tickets keep topic, city and outcome."""
        erased = await self.tickets.erase_user(user_key)
        await self.tracker.erase(user_key)
        await self.mailbox.erase_user(user_key)
        await self.profiles.erase(user_key)
        log.info("erased a user's data (%d tickets kept for statistics only)", erased)
