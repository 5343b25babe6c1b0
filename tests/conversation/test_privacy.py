"""/status and /forget on the memory stores: what the user sees, and that nothing of theirs is left."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.conversation.privacy import Privacy, RetentionPolicy, purge_closed_tickets, retention_policy
from bot.core.clock import utcnow
from bot.core.i18n import Translations
from bot.core.messages import HandoffRequest, InboundMessage, Reply
from bot.core.overview import MissedMessage, MissKind, missed_text
from bot.core.profiles import Profile
from bot.core.settings import load_settings
from bot.core.tickets import Author, Entry, Mediator, NewTicket, Outcome, Role
from tests.fakes.reports import MemoryMissedMessages
from tests.fakes.stores import (
    MemoryInbox,
    MemoryOutbox,
    MemoryProfileStore,
    MemoryTicketStore,
    MemoryTranscript,
)

USER = "whatsapp:393331234567"
WORDS = "the owner put our mattresses on the landing"


def privacy(translations: Translations) -> Privacy:
    outbox = MemoryOutbox()
    inbox, profiles = MemoryInbox(outbox), MemoryProfileStore()
    return Privacy(MemoryTicketStore(), MemoryTranscript(), inbox, outbox, profiles, translations)


def new_ticket(user_key: str = USER) -> NewTicket:
    return NewTicket("roma", "RM", "it", "eviction", True, "whatsapp", user_key, WORDS, utcnow())


async def test_status_lists_open_requests_in_the_users_language(translations: Translations) -> None:
    desk = privacy(translations)
    nothing = translations("uk")._("You have no open requests.")
    assert [r.text for r in await desk.status(USER, "uk")] == [nothing]
    ticket = await desk.tickets.open(new_ticket())
    [reply] = await desk.status(USER, "uk")
    tr = translations("uk")
    assert reply.text.splitlines() == [
        tr._("Your open requests:"),
        tr._("{ticket}: {state}", ticket=ticket.id, state=tr._("waiting for a person")),
    ]


async def test_forget_erases_the_user_everywhere_and_keeps_only_statistics(
    translations: Translations,
) -> None:
    desk = privacy(translations)
    ticket = await desk.tickets.open(new_ticket())
    other = await desk.tickets.open(new_ticket("telegram:9"))
    await desk.inbox.receive(InboundMessage("whatsapp", "393331234567", WORDS, platform_id="wamid.1"))
    await desk.outbox.queue("whatsapp", USER, "it", [Reply("Ciao")])
    await desk.profiles.save(Profile(USER, "it", True, "roma", HandoffRequest("eviction", True)))
    assert isinstance(desk.transcript, MemoryTranscript) and isinstance(desk.outbox, MemoryOutbox)
    desk.transcript.conversations[USER] = [Entry(Author.USER, WORDS, utcnow())]

    await desk.forget(USER)

    kept = await desk.tickets.get(ticket.id)
    assert (kept.city, kept.topic, kept.transcript, kept.details) == ("roma", "eviction", [], "")
    assert await desk.tickets.user_key_of(kept) is None
    assert desk.outbox.rows(USER) == []
    # the /forget being answered stays until its confirmation is sent (WhatsApp's window), then goes
    [forget_message] = [i for i, _ in desk.inbox.rows]
    await desk.inbox.finish(forget_message, "it", [Reply("Fatto.")], ephemeral=True)
    [confirmation] = desk.outbox.rows(USER)
    await desk.outbox.sent(confirmation.id, "wamid.done")
    assert desk.inbox.rows == [] and desk.outbox.rows(USER) == []
    assert await desk.profiles.get(USER) == Profile(USER)
    assert await desk.transcript.conversation(USER) == []
    assert (await desk.tickets.get(other.id)).details == WORDS  # nobody else's data went


async def test_retention_purges_the_words_of_old_closed_tickets_only(translations: Translations) -> None:
    tickets = MemoryTicketStore()
    old, recent = await tickets.open(new_ticket()), await tickets.open(new_ticket("telegram:9"))
    anna = Mediator(1, "anna@roma.example", "Anna", Role.MEDIATOR, ("roma",), ("it",))
    await tickets.close(anna, old.id, Outcome.RESOLVED)
    tickets.tickets[old.id] = replace(tickets.tickets[old.id], closed_at=utcnow() - timedelta(days=200))
    assert await purge_closed_tickets(tickets, timedelta(days=180)) == 1
    assert (await tickets.get(old.id)).details == "" and (await tickets.get(recent.id)).details == WORDS


async def test_retention_expires_every_store_and_flushes_once(translations: Translations) -> None:
    flushed: list[str] = []

    async def flush() -> None:
        flushed.append("flushed")

    outbox = MemoryOutbox()
    desk = Privacy(
        MemoryTicketStore(),
        MemoryTranscript(),
        MemoryInbox(outbox),
        outbox,
        MemoryProfileStore(),
        translations,
        flush,
    )
    assert isinstance(desk.transcript, MemoryTranscript)
    old = utcnow() - timedelta(days=40)
    desk.transcript.conversations[USER] = [Entry(Author.USER, WORDS, old), Entry(Author.BOT, "ok", utcnow())]
    await desk.inbox.receive(
        InboundMessage("whatsapp", "393331234567", WORDS, platform_id="w1", received_at=old)
    )
    inbound = await desk.inbox.next_for(USER)
    assert inbound is not None
    await desk.inbox.finish(inbound, "it", [])
    expired = await desk.expire(RetentionPolicy())
    assert (expired.inbox, expired.tracker_events) == (1, 1)
    assert [e.text for e in await desk.transcript.conversation(USER)] == ["ok"]
    assert flushed == ["flushed"]


async def test_a_failed_retention_run_does_not_end_retention(translations: Translations) -> None:
    import asyncio

    runs: list[str] = []

    class FlakyInbox(MemoryInbox):
        async def purge_answered(self, older_than: timedelta) -> int:
            runs.append("run")
            if len(runs) == 1:
                raise OSError("database is locked")
            return 0

    outbox = MemoryOutbox()
    inbox, profiles = FlakyInbox(outbox), MemoryProfileStore()
    desk = Privacy(MemoryTicketStore(), MemoryTranscript(), inbox, outbox, profiles, translations)
    task = asyncio.create_task(desk.keep_expiring(RetentionPolicy(), timedelta(seconds=0.01)))
    for _ in range(100):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(runs) >= 3, "the runs after the failed one still happen"


async def test_retention_deletes_missed_messages_after_their_own_period(translations: Translations) -> None:
    missed = MemoryMissedMessages()
    desk = replace(privacy(translations), missed=missed)
    for days in (31, 10):
        at = utcnow() - timedelta(days=days)
        await missed.record(MissedMessage(WORDS, "it", MissKind.OUT_OF_SCOPE, None, 0.0, "roma", at))
    expired = await desk.expire(RetentionPolicy(missed=timedelta(days=30)))
    assert expired.missed == 1 and [m.at < utcnow() - timedelta(days=9) for m in missed.messages] == [True]
    assert (await desk.expire(RetentionPolicy(missed=timedelta(days=5)))).missed == 1
    assert missed.messages == []


def test_the_missed_messages_period_is_a_setting() -> None:
    settings = load_settings(_env_file=None, SPORTELLO_RETENTION_MISSED_DAYS="7")
    assert retention_policy(settings).missed == timedelta(days=7)
    assert retention_policy(load_settings(_env_file=None)).missed == timedelta(days=30)


async def test_forget_erases_the_missed_messages_of_the_users_conversation(
    translations: Translations,
) -> None:
    missed = MemoryMissedMessages()
    desk = replace(privacy(translations), missed=missed)
    assert isinstance(desk.transcript, MemoryTranscript)
    mine = "mi chiamo Amal, 333 1234567, dove vado"
    desk.transcript.conversations[USER] = [
        Entry(Author.USER, mine, utcnow()),
        Entry(Author.BOT, "Sorry, I did not understand", utcnow()),
    ]
    for text in (missed_text(mine), "someone else's words"):
        await missed.record(MissedMessage(text, "it", MissKind.NOT_UNDERSTOOD, None, 0.0, "roma", utcnow()))
    await desk.forget(USER)
    assert [m.text for m in missed.messages] == ["someone else's words"]
