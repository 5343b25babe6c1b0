"""The router with a fake engine: order per user, one notice while the engine is down, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.catalog import PROJECT_DIR, load_catalog
from bot.channels.base import InboundMessage, Kind
from bot.db import create_engine, migrate
from bot.detection import make_policy
from bot.gateway.conversation import Conversations
from bot.i18n import Translations
from bot.mailbox import Mailbox
from bot.profiles import MemoryProfileStore
from bot.router import Router
from tests.helpers.fakes import FakeEngine


async def make(tmp_path: Path, engine: FakeEngine) -> tuple[Router, Mailbox]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    mailbox = Mailbox(create_engine(url))
    conversations = Conversations(engine, MemoryProfileStore(), make_policy(), load_catalog(PROJECT_DIR))
    return Router(mailbox, conversations, Translations(), asyncio.Event()), mailbox


def message(user: str, text: str, platform_id: str, kind: Kind = Kind.TEXT) -> InboundMessage:
    return InboundMessage("telegram", user, text, kind, platform_id, language_hint="en")


async def texts_for(mailbox: Mailbox, user: str) -> list[str]:
    return [row.text for row in await mailbox.outbox_rows(f"telegram:{user}")]


async def run_until(router: Router, condition: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    """Run the router until ``condition`` holds (failing after ``seconds``)."""

    async def wait() -> None:
        while not await condition():
            await asyncio.sleep(0.05)

    task = asyncio.create_task(router.run())
    try:
        await asyncio.wait_for(wait(), seconds)
    finally:
        task.cancel()
        await router.stop()


async def test_messages_of_one_user_are_answered_in_order(tmp_path: Path) -> None:
    engine = FakeEngine()
    router, mailbox = await make(tmp_path, engine)
    for index in range(5):
        await mailbox.receive(message("1", f"question number {index}", str(index)))

    async def done() -> bool:
        return len(await texts_for(mailbox, "1")) == 5

    await run_until(router, done)
    assert await texts_for(mailbox, "1") == [f"re:question number {i}" for i in range(5)]


async def test_engine_down_gives_one_notice_and_keeps_the_messages(tmp_path: Path) -> None:
    engine = FakeEngine(down=True)
    router, mailbox = await make(tmp_path, engine)
    await mailbox.receive(message("2", "I need a lawyer for my case", "a"))
    await mailbox.receive(message("2", "and a doctor for my son", "b"))
    notice = Translations()("en")._("We received your message. We will answer shortly.")

    async def notified() -> bool:
        return bool(await texts_for(mailbox, "2"))

    await run_until(router, notified)
    assert await texts_for(mailbox, "2") == [notice]
    assert await mailbox.pending_users() == ["telegram:2"]

    engine.down = False

    async def answered() -> bool:
        return len(await texts_for(mailbox, "2")) == 3

    await run_until(router, answered)
    expected = ["re:I need a lawyer for my case", "re:and a doctor for my son"]
    assert (await texts_for(mailbox, "2"))[1:] == expected


async def test_voice_note_gets_a_fixed_reply_without_rasa(tmp_path: Path) -> None:
    engine = FakeEngine()
    router, mailbox = await make(tmp_path, engine)
    await mailbox.receive(message("3", "", "v", Kind.VOICE))

    async def answered() -> bool:
        return bool(await texts_for(mailbox, "3"))

    await run_until(router, answered)
    rows = await mailbox.outbox_rows("telegram:3")
    assert "voice" in rows[0].text
    assert rows[0].buttons == [{"title": "Talk to a person", "payload": "/ask_human"}]
    assert engine.seen == []
