"""Working a ticket across languages, without HTTP: the use case on memory stores and a fake translator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation.interpreting import Interpreting, parse_day
from bot.conversation.mediation import Mediation
from bot.core.clock import utcnow
from bot.core.errors import InvalidInput, TicketNotFound
from bot.core.i18n import Translations
from bot.core.tickets import Author, Entry, Mediator, NewTicket, Role, Ticket
from bot.dialogue.desk import Desk
from tests.fakes.ports import FakeTranslator
from tests.fakes.stores import (
    MemoryMailbox,
    MemoryMediatorStore,
    MemoryOutbox,
    MemoryTicketEvents,
    MemoryTicketStore,
)


class Desks:
    def __init__(self, desk: Desk, translations: Translations, translator: FakeTranslator | None) -> None:
        self.tickets, self.mediators = MemoryTicketStore(), MemoryMediatorStore()
        self.outbox, self.mailbox, self.woken = MemoryOutbox(), MemoryMailbox(), []
        self.mediation = Mediation(
            self.tickets,
            self.mediators,
            MemoryTicketEvents(),
            self.outbox,
            translations,
            mailbox=self.mailbox,
            wake_page=self.woken.append,
        )
        self.use = Interpreting(self.mediation, desk, translator)

    async def ticket(self, user_key: str = "telegram:7", language: str = "bn") -> Ticket:
        said = (Entry(Author.USER, "সাহায্য দরকার", utcnow()), Entry(Author.BOT, "একজন মানুষ", utcnow()))
        new = NewTicket(
            "caserta",
            "CE",
            language,
            "eviction",
            True,
            user_key.split(":")[0],
            user_key,
            "তালা বদলেছে",
            utcnow() + timedelta(hours=4),
            transcript=said,
        )
        return await self.tickets.open(new)

    async def mediator(self, cities: tuple[str, ...] = ("caserta",)) -> Mediator:
        return await self.mediators.add("m@example", "M", Role.MEDIATOR, list(cities), ["it"], "pw")


@pytest.fixture()
def translator() -> FakeTranslator:
    return FakeTranslator()


@pytest.fixture()
def desks(desk: Desk, translations: Translations, translator: FakeTranslator) -> Desks:
    return Desks(desk, translations, translator)


async def test_the_users_and_the_assistants_words_are_read_in_the_mediators_language(
    desks: Desks, translator: FakeTranslator
) -> None:
    ticket, mediator = await desks.ticket(), await desks.mediator()
    await desks.mediation.reply(mediator, ticket.id, "কাল আসুন")
    ticket = await desks.tickets.get(ticket.id)
    reading = await desks.use.reading(mediator, ticket)
    shown = [(e.author, e.text, t) for e, t in zip(ticket.transcript, reading.translations, strict=True)]
    assert ("user", "সাহায্য দরকার", "[it] সাহায্য দরকার") in shown
    assert ("user", "তালা বদলেছে", "[it] তালা বদলেছে") in shown, "the handoff's few words too"
    assert ("bot", "একজন মানুষ", "[it] একজন মানুষ") in shown
    assert ("mediator", "কাল আসুন", None) in shown, "the mediator knows what they wrote"
    assert len(translator.asked) == 3 and all(source == "bn" for source, _, _ in translator.asked)


async def test_a_ticket_in_the_mediators_language_asks_no_service(
    desks: Desks, translator: FakeTranslator
) -> None:
    ticket, mediator = await desks.ticket(language="it"), await desks.mediator()
    reading = await desks.use.reading(mediator, ticket)
    assert not reading.translated and translator.asked == []


async def test_a_service_that_fails_is_said_and_nothing_breaks(
    desks: Desks, translator: FakeTranslator
) -> None:
    translator.down = True
    ticket, mediator = await desks.ticket(), await desks.mediator()
    reading = await desks.use.reading(mediator, ticket)
    assert reading.unavailable and not reading.translated
    with pytest.raises(InvalidInput):
        await desks.use.draft(mediator, ticket.id, "Domani alle 10")


async def test_without_a_service_there_is_no_draft(desk: Desk, translations: Translations) -> None:
    desks = Desks(desk, translations, None)
    ticket, mediator = await desks.ticket(), await desks.mediator()
    assert not desks.use.machine_translation
    assert not (await desks.use.reading(mediator, ticket)).translated
    with pytest.raises(InvalidInput):
        await desks.use.draft(mediator, ticket.id, "Domani alle 10")


async def test_a_translated_reply_is_marked_and_the_original_kept(
    desks: Desks, translations: Translations
) -> None:
    ticket, mediator = await desks.ticket(), await desks.mediator()
    draft = await desks.use.draft(mediator, ticket.id, "Domani alle 10")
    assert draft == "[bn] Domani alle 10" and desks.outbox.rows("telegram:7") == []
    await desks.use.send_translated(mediator, ticket.id, draft, "Domani alle 10")
    [row] = desks.outbox.rows("telegram:7")
    assert row.text.endswith(translations("bn")._("(Translated by a machine from what the person wrote.)"))
    notes = (await desks.tickets.get(ticket.id)).notes
    assert any("Domani alle 10" in note.text for note in notes)
    with pytest.raises(InvalidInput):
        await desks.use.send_translated(mediator, ticket.id, draft, "  ")


async def test_a_knowledge_entry_to_a_web_chat_user_waits_in_their_mailbox(desks: Desks) -> None:
    ticket, mediator = await desks.ticket(user_key="webchat:abc"), await desks.mediator()
    await desks.use.send_knowledge(mediator, ticket.id, "eviction")
    letters = await desks.mailbox.waiting("webchat:abc")
    assert len(letters) >= 3 and all(letter.from_person and letter.language == "bn" for letter in letters)
    assert desks.woken and set(desks.woken) == {"webchat:abc"}


async def test_previews_show_both_languages(desks: Desks) -> None:
    ticket, mediator = await desks.ticket(), await desks.mediator()
    preview = await desks.use.canned_preview(mediator, ticket.id, "still_working", "")
    assert preview.language == "bn" and ticket.id in preview.mine[0] and ticket.id in preview.theirs[0]
    assert preview.mine[0].startswith("Stiamo ancora lavorando")


async def test_another_citys_ticket_is_not_found_for_every_operation(desks: Desks) -> None:
    ticket, stranger = await desks.ticket(), await desks.mediator(cities=("roma",))
    for operation in (
        desks.use.draft(stranger, ticket.id, "ciao"),
        desks.use.send_knowledge(stranger, ticket.id, "eviction"),
        desks.use.send_canned(stranger, ticket.id, "still_working", ""),
        desks.use.knowledge_preview(stranger, ticket.id, "eviction"),
    ):
        with pytest.raises(TicketNotFound):
            await operation
    assert desks.outbox.rows("telegram:7") == []


def test_a_day_is_iso_or_nothing() -> None:
    assert parse_day("") is None and str(parse_day("2026-12-31")) == "2026-12-31"
    with pytest.raises(InvalidInput):
        parse_day("31/12/2026")
