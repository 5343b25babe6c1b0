"""Photos and PDFs users send: a photo of an eviction letter must reach the team. While the user has a
ticket open (or held by a mediator) the file is stored privately and attached to it; outside a ticket
the bot cannot read it and offers a person. The platforms' downloads are ``MediaSource`` ports."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.attachments import DOCUMENT, PHOTO, check
from bot.core.errors import AttachmentRefused
from bot.core.i18n import Translations
from bot.core.messages import InboundMessage, Reply
from bot.core.ports import AttachmentStore, MediaSource, TicketEvents, TicketStore
from bot.core.tickets import Ticket, TicketEvent
from bot.dialogue.answers import person_button

log = logging.getLogger(__name__)
MEGABYTE = 1024 * 1024


@dataclass
class Attachments:
    store: AttachmentStore
    tickets: TicketStore
    events: TicketEvents
    translations: Translations
    sources: Mapping[str, MediaSource] = field(default_factory=dict)  # per channel
    max_bytes: int = 10 * MEGABYTE

    async def ticket_of(self, user_key: str) -> Ticket | None:
        """The ticket a file belongs to: the one a mediator holds, else the user's latest open one."""
        held = await self.tickets.held_for_user(user_key)
        if held is not None:
            return held
        open_ones = await self.tickets.open_for_user(user_key)
        return open_ones[-1] if open_ones else None

    async def receive(
        self, ticket: Ticket, message: InboundMessage, language: str, content: bytes | None = None
    ) -> Reply:
        """Download (unless the web chat uploaded it), check, store, attach; what to tell the user."""
        declared = message.attachment.declared_type if message.attachment else ""
        try:
            if content is None:
                content = await self._download(message)
            content_type = check(content, declared, self.max_bytes)
        except AttachmentRefused as refused:
            log.info("ticket %s: a file refused (%s)", ticket.id, refused.reason)
            return self.refusal(refused, language)
        await self._keep(ticket, message.user_key, content_type, content)
        tr = self.translations(language)
        return Reply(tr._("We received your file and added it to your request {ticket}.", ticket=ticket.id))

    async def _keep(self, ticket: Ticket, user_key: str, content_type: str, content: bytes) -> None:
        """Store the file once per ticket: the same bytes again (sent twice, or a message worked again
        after a crash) are the file the ticket has already."""
        digest = hashlib.sha256(content).hexdigest()
        if any(known.sha256 == digest for known in await self.store.for_ticket(ticket.id)):
            log.info("ticket %s: a file it has already", ticket.id)
            return
        kind = PHOTO if content_type.startswith("image/") else DOCUMENT
        stored = await self.store.add(ticket.id, user_key, kind, content_type, content)
        self.events.publish(TicketEvent(ticket.id, "entry", ticket.city))
        log.info("ticket %s: attachment %d stored (%s)", ticket.id, stored.id, content_type)

    async def _download(self, message: InboundMessage) -> bytes:
        source = self.sources.get(message.channel)
        if source is None or message.attachment is None:
            raise AttachmentRefused("type")  # a channel we cannot download from
        return await source.download(message.attachment, self.max_bytes)

    def refusal(self, refused: AttachmentRefused, language: str) -> Reply:
        tr = self.translations(language)
        if refused.reason == "too_big":
            return Reply(
                tr._(
                    "This file is too big. Please send a photo or a PDF smaller than {megabytes} MB.",
                    megabytes=self.max_bytes // MEGABYTE,
                )
            )
        text = tr._("I can only receive photos (JPEG or PNG) and PDF documents. Please send one of those.")
        return Reply(text)

    def outside_a_ticket(self, language: str) -> Reply:
        """No ticket to put the file in: the bot cannot read it, a person can."""
        tr = self.translations(language)
        text = tr._(
            "I can't read photos or documents. Please write your question in words, or talk to a person: "
            "you can then send them your file."
        )
        return Reply(text, (person_button(tr),))
