"""Working a ticket in a language the mediator does not read: the person's messages machine-translated
for the mediator, the mediator's reply drafted in the person's language, knowledge entries and staff's
ready replies sent in the person's language. What the dashboard calls, without HTTP.

Access is the mediation's: every operation first fetches the ticket for this mediator (another city's
ticket is ``TicketNotFound``). Machine translation is only there when the city configured a service;
what it produces is always marked as such, and the mediator's own words are kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from bot.conversation.mediation import Mediation
from bot.core.errors import InvalidInput, TranslationUnavailable
from bot.core.ports import Translator
from bot.core.tickets import Author, Mediator, Ticket, TicketEvent
from bot.dialogue.desk import Desk
from bot.dialogue.replies import canned_reply, knowledge_entry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """Per transcript entry (same order), the text in the mediator's language, or None where it is in
    that language already, was written by a mediator, or could not be translated."""

    translations: list[str | None] = field(default_factory=list)
    unavailable: bool = False  # the service was asked and failed: the page says so

    @property
    def translated(self) -> bool:
        return any(t is not None for t in self.translations)


@dataclass(frozen=True)
class Preview:
    """What the person will receive (``theirs``) beside the same words in the mediator's language."""

    mine: list[str]
    theirs: list[str]
    language: str  # the person's


@dataclass
class Interpreting:
    mediation: Mediation
    desk: Desk
    translator: Translator | None = None  # None: the city configured no machine translation

    @property
    def machine_translation(self) -> bool:
        return self.translator is not None

    # reading ----------------------------------------------------------------------------------------
    async def reading(self, mediator: Mediator, ticket: Ticket) -> Reading:
        """The person's (and the assistant's) messages in the mediator's language."""
        target = mediator.language
        wanted = [
            index
            for index, entry in enumerate(ticket.transcript)
            if entry.author is not Author.MEDIATOR and ticket.language != target
        ]
        translations: list[str | None] = [None] * len(ticket.transcript)
        if self.translator is None or not wanted:
            return Reading(translations)
        texts = [ticket.transcript[index].text for index in wanted]
        try:
            done = await self.translator.translate(texts, ticket.language, target)
        except TranslationUnavailable as exc:
            log.warning("ticket %s: no machine translation: %s", ticket.id, exc)
            return Reading(translations, unavailable=True)
        for index, text in zip(wanted, done, strict=True):
            translations[index] = text
        return Reading(translations)

    async def draft(self, mediator: Mediator, ticket_id: str, text: str) -> str:
        """The mediator's reply machine-translated into the person's language, for them to check and
        send; nothing is sent here."""
        ticket = await self.mediation.ticket(mediator, ticket_id)
        if self.translator is None:
            raise InvalidInput("Machine translation is not configured for this desk.")
        text = text.strip()
        if not text:
            raise InvalidInput("Write the reply first.")
        if len(text) > self.mediation.max_text_chars:
            raise InvalidInput(f"The reply is longer than {self.mediation.max_text_chars} characters.")
        try:
            return (await self.translator.translate([text], mediator.language, ticket.language))[0]
        except TranslationUnavailable:
            raise InvalidInput(
                "The translation service is not answering: try again, or write the reply."
            ) from None

    async def send_translated(self, mediator: Mediator, ticket_id: str, text: str, original: str) -> None:
        """Send a machine-drafted reply: the person reads that a machine translated it; the mediator's
        own words stay with the ticket as an internal note."""
        ticket = await self.mediation.ticket(mediator, ticket_id)
        original = original.strip()
        if not original:
            raise InvalidInput("The original of the translated reply is missing.")
        mark = self.mediation.translations(ticket.language)._(
            "(Translated by a machine from what the person wrote.)"
        )
        await self.mediation.reply(mediator, ticket.id, f"{text.strip()}\n\n{mark}")
        await self.mediation.note(mediator, ticket.id, f"Machine-translated reply; the original: {original}")

    # knowledge entries and ready replies --------------------------------------------------------------
    async def knowledge_preview(self, mediator: Mediator, ticket_id: str, topic: str) -> Preview:
        ticket = await self.mediation.ticket(mediator, ticket_id)
        return Preview(
            knowledge_entry(self.desk, topic, mediator.language, ticket.city),
            knowledge_entry(self.desk, topic, ticket.language, ticket.city),
            ticket.language,
        )

    async def send_knowledge(self, mediator: Mediator, ticket_id: str, topic: str) -> None:
        ticket = await self.mediation.ticket(mediator, ticket_id)
        await self._send(mediator, ticket, knowledge_entry(self.desk, topic, ticket.language, ticket.city))

    async def canned_preview(self, mediator: Mediator, ticket_id: str, reply: str, when: str) -> Preview:
        ticket = await self.mediation.ticket(mediator, ticket_id)
        day = parse_day(when)
        return Preview(
            [canned_reply(self.desk, reply, mediator.language, ticket.id, ticket.city, day)],
            [canned_reply(self.desk, reply, ticket.language, ticket.id, ticket.city, day)],
            ticket.language,
        )

    async def send_canned(self, mediator: Mediator, ticket_id: str, reply: str, when: str) -> None:
        ticket = await self.mediation.ticket(mediator, ticket_id)
        text = canned_reply(self.desk, reply, ticket.language, ticket.id, ticket.city, parse_day(when))
        await self._send(mediator, ticket, [text])

    async def _send(self, mediator: Mediator, ticket: Ticket, texts: list[str]) -> None:
        """Each message as the mediator's reply: in the transcript, then to the person."""
        for text in texts:
            await self.mediation.tickets.reply(mediator, ticket.id, text)
            await self.mediation.send_to_user(ticket, text)
        self.mediation.events.publish(TicketEvent(ticket.id, "entry", ticket.city))


def parse_day(value: str) -> date | None:
    """The date a mediator picked (an ``<input type=date>``: YYYY-MM-DD); empty is none."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("The date must be a day, like 2026-12-31.") from None
