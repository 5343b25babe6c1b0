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
from bot.core.messages import InboundMessage, Kind
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
