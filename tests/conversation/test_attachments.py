"""The attachments use case on the memory fakes: which ticket a file joins, what the user is told for
a file kept, too big, of the wrong type or outside a ticket, and that nothing is downloaded in vain."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.conversation.attachments import Attachments
from bot.conversation.privacy import Privacy, RetentionPolicy
from bot.core.attachments import DOCUMENT, PHOTO, MediaRef
from bot.core.clock import utcnow
from bot.core.i18n import Translations
from bot.core.messages import InboundMessage, Kind
from bot.core.tickets import Mediator, NewTicket, Role, TicketEvent
from tests.fakes.ports import FakeMediaSource
from tests.fakes.stores import (
    MemoryAttachmentStore,
    MemoryInbox,
    MemoryOutbox,
    MemoryProfileStore,
    MemoryTicketEvents,
    MemoryTicketStore,
    MemoryTranscript,
)

USER = "telegram:42"
JPEG, PDF = b"\xff\xd8\xff\xe0 the letter", b"%PDF-1.4 the contract"
ANNA = Mediator(1, "anna@caserta.example", "Anna", Role.MEDIATOR, ("caserta",), ("it",))


@dataclass
class Desk:
    attachments: Attachments
    tickets: MemoryTicketStore
    store: MemoryAttachmentStore
    source: FakeMediaSource
    events: MemoryTicketEvents

    async def ticket_for(self, user_key: str = USER) -> str:
        new = NewTicket("caserta", "CE", "it", "housing", False, "telegram", user_key, "", utcnow())
        return (await self.tickets.open(new)).id


@pytest.fixture()
def desk(translations: Translations) -> Desk:
    tickets, store, events = MemoryTicketStore(), MemoryAttachmentStore(), MemoryTicketEvents()
    source = FakeMediaSource({"photo-1": JPEG, "doc-1": PDF, "big-1": JPEG + bytes(100)})
    attachments = Attachments(store, tickets, events, translations, {"telegram": source}, max_bytes=64)
    return Desk(attachments, tickets, store, source, events)


def sent(file_id: str, kind: str = PHOTO, declared: str = "image/jpeg") -> InboundMessage:
    ref = MediaRef(file_id, kind, declared)
    return InboundMessage("telegram", "42", "", Kind.MEDIA, f"u-{file_id}", attachment=ref)


async def test_a_file_joins_the_ticket_a_mediator_holds_rather_than_a_newer_one(desk: Desk) -> None:
    held = await desk.ticket_for()
    await desk.tickets.claim(ANNA, held)
    await desk.ticket_for()
    ticket = await desk.attachments.ticket_of(USER)
    assert ticket is not None and ticket.id == held


async def test_without_a_held_one_the_latest_open_ticket(desk: Desk) -> None:
    await desk.ticket_for()
    latest = await desk.ticket_for()
    ticket = await desk.attachments.ticket_of(USER)
    assert ticket is not None and ticket.id == latest
    assert await desk.attachments.ticket_of("telegram:99") is None


async def test_a_kept_file_is_stored_announced_and_confirmed(desk: Desk, translations: Translations) -> None:
    ticket = await desk.tickets.get(await desk.ticket_for())
    reply = await desk.attachments.receive(ticket, sent("doc-1", DOCUMENT, "application/pdf"), "ar")
    assert reply.text == translations("ar")._(
        "We received your file and added it to your request {ticket}.", ticket=ticket.id
    )
    [attachment] = await desk.store.for_ticket(ticket.id)
    assert (attachment.kind, attachment.content_type) == ("document", "application/pdf")
    assert desk.events.published == [TicketEvent(ticket.id, "entry", "caserta")]


@pytest.mark.parametrize(
    ("message", "msgid"),
    [
        (sent("big-1"), "This file is too big. Please send a photo or a PDF smaller than {megabytes} MB."),
        (
            sent("doc-1", DOCUMENT, "text/html"),
            "I can only receive photos (JPEG or PNG) and PDF documents. Please send one of those.",
        ),
    ],
)
async def test_a_refused_file_is_not_kept_and_the_user_is_told_why(
    desk: Desk, translations: Translations, message: InboundMessage, msgid: str
) -> None:
    ticket = await desk.tickets.get(await desk.ticket_for())
    reply = await desk.attachments.receive(ticket, message, "uk")
    assert reply.text == translations("uk")._(msgid, megabytes=0)
    assert await desk.store.for_ticket(ticket.id) == [] and desk.events.published == []


async def test_a_channel_without_downloads_gets_the_type_refusal(desk: Desk) -> None:
    ticket = await desk.tickets.get(await desk.ticket_for())
    whatsapp = InboundMessage("whatsapp", "39", "", Kind.MEDIA, "w1", attachment=MediaRef("m1"))
    reply = await desk.attachments.receive(ticket, whatsapp, "it")
    assert "PDF" in reply.text and desk.source.asked == []


async def test_an_upload_needs_no_download(desk: Desk) -> None:
    ticket = await desk.tickets.get(await desk.ticket_for())
    upload = InboundMessage("webchat", "s1", "", Kind.MEDIA, attachment=MediaRef("", DOCUMENT, "image/png"))
    await desk.attachments.receive(ticket, upload, "it", content=b"\x89PNG\r\n\x1a\n....")
    [attachment] = await desk.store.for_ticket(ticket.id)
    assert attachment.content_type == "image/png" and desk.source.asked == []


def test_outside_a_ticket_the_person_button_is_offered(desk: Desk, translations: Translations) -> None:
    reply = desk.attachments.outside_a_ticket("bn")
    assert [b.payload for b in reply.buttons] == ["/ask_human"]
    assert reply.buttons[0].title == translations("bn")._("Talk to a person")


async def test_forget_erases_the_users_files(desk: Desk, translations: Translations) -> None:
    ticket = await desk.tickets.get(await desk.ticket_for())
    await desk.attachments.receive(ticket, sent("photo-1"), "it")
    outbox = MemoryOutbox()
    privacy = Privacy(
        desk.tickets, MemoryTranscript(), MemoryInbox(outbox), outbox, MemoryProfileStore(), translations
    )
    privacy.attachments = desk.store
    await privacy.forget(USER)
    assert desk.store.files == {}
    assert (await privacy.expire(RetentionPolicy())).attachments == 0


async def test_the_same_file_twice_is_kept_once(desk: Desk, translations: Translations) -> None:
    """Sent twice, or worked again after a crash: the mediator sees it once, the user is told both times."""
    ticket = await desk.tickets.get(await desk.ticket_for())
    first = await desk.attachments.receive(ticket, sent("photo-1"), "it")
    again = await desk.attachments.receive(ticket, sent("photo-1"), "it")
    assert first == again and len(await desk.store.for_ticket(ticket.id)) == 1
    assert len(desk.events.published) == 1
