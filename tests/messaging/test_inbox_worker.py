"""The inbox worker with a fake engine and the memory inbox and outbox: order per user, one notice while
the engine is down, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.conversation.language import LanguagePolicy
from bot.conversation.service import ConversationService
from bot.core.catalog import Catalog
from bot.core.i18n import Translations
from bot.core.messages import Inbound, InboundMessage, Kind
from bot.messaging import inbox_worker
from bot.messaging.inbox_worker import InboxWorker
from tests.fakes.ports import FakeEngine
from tests.fakes.stores import MemoryInbox, MemoryOutbox, MemoryProfileStore


@dataclass
class Mailbox:
    inbox: MemoryInbox
    outbox: MemoryOutbox


Builder = Callable[[FakeEngine], tuple[InboxWorker, Mailbox]]


@pytest.fixture()
def build(policy: LanguagePolicy, catalog: Catalog, translations: Translations) -> Builder:
    def make(engine: FakeEngine) -> tuple[InboxWorker, Mailbox]:
        outbox = MemoryOutbox()
        mailbox = Mailbox(MemoryInbox(outbox), outbox)
        conversation = ConversationService(engine, MemoryProfileStore(), policy, catalog, translations)
        return InboxWorker(mailbox.inbox, outbox, conversation, asyncio.Event()), mailbox

    return make


def message(user: str, text: str, platform_id: str, kind: Kind = Kind.TEXT) -> InboundMessage:
    return InboundMessage("telegram", user, text, kind, platform_id, language_hint="en")


async def texts_for(mailbox: Mailbox, user: str) -> list[str]:
    return [row.text for row in mailbox.outbox.rows(f"telegram:{user}")]


async def run_until(
    router: InboxWorker, condition: Callable[[], Awaitable[bool]], seconds: float = 10
) -> None:
    """Run the worker until ``condition`` holds (failing after ``seconds``)."""

    async def wait() -> None:
        while not await condition():
            await asyncio.sleep(0.05)

    task = asyncio.create_task(router.run())
    try:
        await asyncio.wait_for(wait(), seconds)
    finally:
        task.cancel()
        await router.stop()


async def test_messages_of_one_user_are_answered_in_order(build: Builder) -> None:
    engine = FakeEngine()
    router, mailbox = build(engine)
    for index in range(5):
        await mailbox.inbox.receive(message("1", f"question number {index}", str(index)))

    async def done() -> bool:
        return len(await texts_for(mailbox, "1")) == 5

    await run_until(router, done)
    assert await texts_for(mailbox, "1") == [f"re:question number {i}" for i in range(5)]


async def test_engine_down_gives_one_notice_and_keeps_the_messages(
    build: Builder, translations: Translations
) -> None:
    engine = FakeEngine(down=True)
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("2", "I need a lawyer for my case", "a"))
    await mailbox.inbox.receive(message("2", "and a doctor for my son", "b"))
    notice = translations("en")._("We received your message. We will answer shortly.")

    async def notified() -> bool:
        return bool(await texts_for(mailbox, "2"))

    await run_until(router, notified)
    assert await texts_for(mailbox, "2") == [notice]
    assert await mailbox.inbox.pending_users() == ["telegram:2"]

    engine.down = False

    async def answered() -> bool:
        return len(await texts_for(mailbox, "2")) == 3

    await run_until(router, answered)
    expected = ["re:I need a lawyer for my case", "re:and a doctor for my son"]
    assert (await texts_for(mailbox, "2"))[1:] == expected


async def test_voice_note_gets_a_fixed_reply_without_rasa(build: Builder) -> None:
    engine = FakeEngine()
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("3", "", "v", Kind.VOICE))

    async def answered() -> bool:
        return bool(await texts_for(mailbox, "3"))

    await run_until(router, answered)
    rows = mailbox.outbox.rows("telegram:3")
    assert "voice" in rows[0].text
    assert rows[0].buttons == [{"title": "Talk to a person", "payload": "/ask_human"}]
    assert engine.seen == []


async def test_a_poison_message_is_parked_with_an_apology_and_the_next_one_goes_on(
    build: Builder, translations: Translations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_worker, "FAILURE_RETRY_SECONDS", (0.05, 0.05))
    engine = FakeEngine(broken={"the message that breaks": 100})
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("4", "the message that breaks", "p1"))
    await mailbox.inbox.receive(message("4", "and a question after it", "p2"))

    async def both_answered() -> bool:
        return len(await texts_for(mailbox, "4")) == 2

    await run_until(router, both_answered)
    apology, answer = mailbox.outbox.rows("telegram:4")
    tr = translations("en")
    assert apology.text == tr._(
        "Sorry, something went wrong and I could not answer your message. A person can help you."
    )
    assert apology.buttons == [{"title": "Talk to a person", "payload": "/ask_human"}]
    assert answer.text == "re:and a question after it"
    assert engine.broken["the message that breaks"] == 100 - inbox_worker.MAX_FAILURES  # three tries
    assert [status for _, status in mailbox.inbox.rows] == ["parked", "done"]
    assert mailbox.inbox.errors[1].startswith("ValueError at ports.py:")  # the type and line, no text


async def test_a_message_that_fails_once_is_answered_on_its_retry(
    build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_worker, "FAILURE_RETRY_SECONDS", (0.05, 0.05))
    engine = FakeEngine(broken={"a hiccup": 1})
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("5", "a hiccup", "h1"))

    async def answered() -> bool:
        return bool(await texts_for(mailbox, "5"))

    await run_until(router, answered)
    assert await texts_for(mailbox, "5") == ["re:a hiccup"]


async def test_one_users_outage_does_not_slow_another_user(build: Builder) -> None:
    """The engine fails for user 6 only (a request that times out): user 7's message, stored without
    waking the worker, is still picked up at the next look within a second or so, while user 6's
    message backs off on its own (one user's failures used to stretch every user's wait to 10 s)."""
    engine = FakeEngine(down_for={"telegram:6"})
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("6", "my request times out", "o1"))
    task = asyncio.create_task(router.run())
    try:
        while mailbox.inbox.rows[0][0].attempts < 3:  # fails at 0, 1 and 3 s (backoff 1, 2, 5 s)
            await asyncio.sleep(0.05)
        await mailbox.inbox.receive(message("7", "a quick question", "o2"))
        for _ in range(40):
            if await texts_for(mailbox, "7"):
                break
            await asyncio.sleep(0.05)
        assert await texts_for(mailbox, "7") == ["re:a quick question"]
    finally:
        task.cancel()
        await router.stop()


async def test_a_store_error_while_draining_is_retried_not_lost(build: Builder) -> None:
    engine = FakeEngine()
    router, mailbox = build(engine)
    await mailbox.inbox.receive(message("8", "stored while the database hiccups", "d1"))
    real_next_for = mailbox.inbox.next_for
    failures = iter([True, True])

    async def flaky_next_for(user_key: str) -> Inbound | None:
        if next(failures, False):
            raise ConnectionError("database unreachable")
        return await real_next_for(user_key)

    mailbox.inbox.next_for = flaky_next_for  # type: ignore[method-assign]

    async def answered() -> bool:
        return bool(await texts_for(mailbox, "8"))

    await run_until(router, answered)
    assert await texts_for(mailbox, "8") == ["re:stored while the database hiccups"]


async def test_the_run_loop_raises_on_a_store_error_for_the_supervisor_to_restart(build: Builder) -> None:
    router, mailbox = build(FakeEngine())

    async def broken() -> list[str]:
        raise ConnectionError("database unreachable")

    mailbox.inbox.pending_users = broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(router.run(), 2)
