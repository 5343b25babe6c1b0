"""The desk's side of a handoff: the user's few words open a ticket for the city's team, and while a
mediator holds the ticket the user's messages go to it. The dialogue (consent, asking for the few
words) happens in Rasa (``bot/dialogue/flows.py``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.core.catalog import Catalog
from bot.core.clock import add_working_days, utcnow
from bot.core.i18n import Translations
from bot.core.languages import LanguageNames
from bot.core.messages import HandoffRequest, InboundMessage, Reply, Understanding
from bot.core.ports import Outbox, RateLimiter, TicketEvents, TicketStore, Transcript
from bot.core.tickets import Author, NewTicket, Ticket, TicketEvent
from bot.dialogue.desk import Desk
from bot.dialogue.flows import office_contacts
from bot.dialogue.turn import TurnContext
from bot.knowledge import KnowledgeStore

log = logging.getLogger(__name__)
URGENT_WITHIN = timedelta(hours=4)
STAFF_LANGUAGE = "it"
DEFAULT_WORKING_DAYS = 2
TOPIC_CONFIDENCE = 0.4  # as Rasa's FallbackClassifier: below it, the few words name no topic
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def opening_key(message: InboundMessage) -> str:
    """The inbound message as a key of the ticket it opens ("" when it has no platform id: the web chat
    answers in the request, and a failed request is a new message)."""
    return f"{message.channel}:{message.platform_id}" if message.platform_id else ""


def read_words(request: HandoffRequest, words: Understanding, catalog: Catalog) -> HandoffRequest:
    """The ticket's topic and urgency from the few words and the conversation so far: danger in the
    words makes the ticket urgent and gives it the urgent topic; otherwise the conversation's topic
    stands and the words only fill it in."""
    named = words.intent if words.intent in catalog.topics and words.confidence >= TOPIC_CONFIDENCE else None
    named_urgent = named if named and catalog.topic(named).urgent else None
    urgent_kind = words.urgency if words.urgency in catalog.topics else None
    topic = urgent_kind or named_urgent or request.topic or named
    urgent = request.urgent or words.urgency is not None or named_urgent is not None
    return HandoffRequest(topic, urgent)


@dataclass
class Handoff:
    tickets: TicketStore
    transcript: Transcript
    events: TicketEvents
    outbox: Outbox
    translations: Translations
    catalog: Catalog
    knowledge: KnowledgeStore
    staff_chat: str = ""  # "telegram:<chat id>" of the staff group, or ""
    dashboard_url: str = ""
    max_open_tickets: int = 3  # per user: more is a flood (or a person who needs one answer, not four)
    max_tickets_per_day: int = 5  # per user, opened in 24 hours, closed ones included
    burst_per_hour: int = 10  # more new tickets in one city within an hour: the staff group is told
    alerts: RateLimiter | None = None  # one burst alert per city and hour (None: no alerts)

    async def to_mediator(self, message: InboundMessage) -> bool:
        """While a mediator holds the user's ticket, their message goes there and the bot stays quiet."""
        ticket = await self.tickets.held_for_user(message.user_key)
        if ticket is None or not message.text:
            return False
        await self.tickets.add_entry(ticket.id, Author.USER, message.text)
        self.events.publish(TicketEvent(ticket.id, "entry", ticket.city))
        return True

    async def to_ticket(self, ticket: Ticket, text: str) -> None:
        """What the user wrote beside a file (a photo's caption), in the ticket's conversation."""
        await self.tickets.add_entry(ticket.id, Author.USER, text)
        self.events.publish(TicketEvent(ticket.id, "entry", ticket.city))

    def working_days(self, city: str) -> int:
        """What the city's team promises (``knowledge/cities/<city>.yml``, handoff section)."""
        knowledge = self.knowledge.current().cities.get(city)
        return knowledge.handoff.answer_within_working_days if knowledge else DEFAULT_WORKING_DAYS

    async def open_ticket(
        self, message: InboundMessage, city_id: str | None, request: HandoffRequest, language: str
    ) -> list[Reply]:
        """The user's few words (or Skip) arrived: open the ticket and say what happens next."""
        tr = self.translations(language)
        if city_id not in self.catalog.cities:
            return [Reply(tr._("Which city are you in? I will tell you how to reach our team."))]
        city = self.catalog.city(city_id)
        key = opening_key(message)
        replayed = await self.tickets.opened_by(key) if key else None
        if replayed is not None:  # a replay after a crash: the same ticket, the same answer
            log.info("ticket %s: its opening message came again", replayed.id)
            await self._notify_staff(replayed)
            return self._confirmation(replayed, city.name, self.working_days(city.id), language)
        already = await self.tickets.open_for_user(message.user_key)
        words = "" if message.is_payload else message.text
        urgent_one = next((t for t in already if t.urgent), None)
        if request.urgent and urgent_one is not None:
            return await self._add_to(urgent_one, words, language)
        today = await self.tickets.opened_since(utcnow() - DAY, user_key=message.user_key)
        if today >= self.max_tickets_per_day:
            log.info("ticket refused: the user opened %d in a day", today)
            return self._too_many_today(city.id, request.urgent, language)
        if len(already) >= self.max_open_tickets:
            log.info("ticket refused: the user has %d open already", len(already))
            ids = ", ".join(t.id for t in already)
            return [
                Reply(
                    tr._(
                        "You already have open requests: {tickets}. A person will answer you here. "
                        "Write /status to see them.",
                        tickets=ids,
                    )
                )
            ]
        now = utcnow()
        days = self.working_days(city.id)
        due = now + URGENT_WITHIN if request.urgent else add_working_days(now, days)
        ticket = await self.tickets.open(
            NewTicket(
                city=city.id,
                province=city.province,
                language=language,
                topic=request.topic,
                urgent=request.urgent,
                channel=message.channel,
                user_key=message.user_key,
                details=words,
                due_at=due,
                transcript=tuple(await self.transcript.conversation(message.user_key)),
                opened_by=key,
            )
        )
        self.events.publish(TicketEvent(ticket.id, "new", ticket.city))
        await self._notify_staff(ticket)
        await self._alert_on_burst(city.id, city.name)
        log.info("ticket %s opened (%s, %s)", ticket.id, ticket.city, ticket.language)
        return self._confirmation(ticket, city.name, days, language)

    def _confirmation(self, ticket: Ticket, city_name: str, days: int, language: str) -> list[Reply]:
        """What the user is told once their ticket is open: its number, who answers and when."""
        tr = self.translations(language)
        when = (
            tr._("today, as soon as possible")
            if ticket.urgent
            else tr._("within {days} working days", days=days)
        )
        text = tr._(
            "Your request number is {ticket}. A person from the one-stop shop in {city} will answer you "
            "here {when}. You can write /status to see your requests.",
            ticket=ticket.id,
            city=city_name,
            when=when,
        )
        replies = [Reply(text)]
        if ticket.urgent:
            urgent = tr._(
                "Your request is urgent: a person will try to answer you within {hours} hours. "
                "If you are in danger now, call 112. It is free.",
                hours=int(URGENT_WITHIN.total_seconds() // 3600),
            )
            replies.append(Reply(urgent))
        return replies

    def _too_many_today(self, city_id: str, urgent: bool, language: str) -> list[Reply]:
        """A day's share of the team's time is used: no ticket, but the office the user can still reach
        (and 112 first when it sounded urgent)."""
        tr = self.translations(language)
        said = tr._(
            "You have already sent many requests today, so I cannot open a new one now. The team will "
            "read the ones you sent. You can write again tomorrow, or contact the office directly."
        )
        desk = Desk(self.catalog, self.knowledge, self.translations, LanguageNames({}, {}))
        replies = [Reply(said), office_contacts(desk, TurnContext(language, city=city_id))]
        if urgent:
            replies.append(Reply(tr._("If you are in danger, call 112. It is free.")))
        return replies

    async def _alert_on_burst(self, city_id: str, city_name: str) -> None:
        """Many new tickets in one city within an hour may be a flood burying real requests: one line to
        the staff group (the city and the count, nothing of any user), at most once per city and hour."""
        if not self.staff_chat or self.alerts is None:
            return
        count = await self.tickets.opened_since(utcnow() - HOUR, city=city_id)
        if count <= self.burst_per_hour or await self.alerts.allow(city_id) is not None:
            return
        log.warning("burst of tickets: %d in %s within an hour", count, city_id)
        tr = self.translations(STAFF_LANGUAGE)
        text = tr._(
            "Unusual number of requests: {count} new ones for {city} in the last hour. Check the queue.",
            count=count,
            city=city_name,
        )
        await self.tell_staff(text)

    async def _add_to(self, ticket: Ticket, words: str, language: str) -> list[Reply]:
        """A second urgent request of the same user joins the first: one ticket for the team to read,
        not a pile that buries everyone else's."""
        if words:
            await self.tickets.add_entry(ticket.id, Author.USER, words)
            self.events.publish(TicketEvent(ticket.id, "entry", ticket.city))
        tr = self.translations(language)
        text = tr._(
            "We added your message to your request {ticket}. A person will answer you here.", ticket=ticket.id
        )
        return [Reply(text), Reply(tr._("If you are in danger, call 112. It is free."))]

    async def _notify_staff(self, ticket: Ticket) -> None:
        """A line in the staff's group: the ticket's id, city, language, topic and a link, no words of
        the user's (the group is a chat app, not the dashboard). Once per ticket: a replay of the
        opening message after a crash sends it only if the first run did not get that far."""
        if not self.staff_chat or ticket.staff_notified:
            return
        tr = self.translations(STAFF_LANGUAGE)
        text = tr._(
            "New request {ticket} ({city}, {language}, {topic}){urgent}: {link}",
            ticket=ticket.id,
            city=ticket.city,
            language=ticket.language,
            topic=ticket.topic or "-",
            urgent=" - " + tr._("URGENT") if ticket.urgent else "",
            link=self.ticket_link(ticket.id),
        )
        await self.tell_staff(text)
        await self.tickets.mark_notified(ticket.id)  # a crash just before this: told twice, never zero

    def ticket_link(self, ticket_id: str) -> str:
        """The ticket's page on the dashboard, for the staff group."""
        return f"{self.dashboard_url.rstrip('/')}/dashboard/tickets/{ticket_id}"

    async def tell_staff(self, text: str) -> bool:
        """One line to the staff group (in the outbox, sent on its channel); False when none is set."""
        if not self.staff_chat:
            return False
        channel = self.staff_chat.split(":", 1)[0]
        await self.outbox.queue(channel, self.staff_chat, STAFF_LANGUAGE, [Reply(text)])
        return True
