"""The sender with a fake channel: retry_after honoured, permanent failures recorded, order kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.channels.base import RetryLater, Undeliverable, WindowClosed
from bot.db import create_engine, migrate
from bot.dialogue.turn import Reply
from bot.mailbox import Mailbox
from bot.outbox import Sender
from tests.helpers.fakes import FakeChannel


async def mailbox_in(tmp_path: Path) -> Mailbox:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    return Mailbox(create_engine(url))


async def run_for(sender: Sender, seconds: float) -> None:
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await sender.stop()


async def test_replies_are_sent_in_order_after_a_retry_after(tmp_path: Path) -> None:
    mailbox = await mailbox_in(tmp_path)
    channel = FakeChannel(errors=[RetryLater(1.0, "429")])
    await mailbox.queue("telegram", "telegram:1", "en", [Reply("first"), Reply("second")])
    sender = Sender(mailbox, {"telegram": channel})
    await run_for(sender, 0.6)
    assert channel.sent == []  # still waiting for retry_after
    await run_for(sender, 3.5)
    assert channel.sent == [("1", "first"), ("1", "second")]
    rows = await mailbox.outbox_rows("telegram:1")
    assert [r.status for r in rows] == ["sent", "sent"]
    assert rows[0].attempts == 2 and rows[0].platform_message_id == "m1"


async def test_permanent_failure_is_recorded_with_its_reason(tmp_path: Path) -> None:
    mailbox = await mailbox_in(tmp_path)
    channel = FakeChannel(errors=[Undeliverable("telegram: Forbidden: bot was blocked by the user")])
    await mailbox.queue("telegram", "telegram:2", "en", [Reply("hello")])
    await run_for(Sender(mailbox, {"telegram": channel}), 1.0)
    [row] = await mailbox.outbox_rows("telegram:2")
    assert row.status == "failed" and "blocked" in (row.error or "")


async def test_window_closed_sends_the_template_and_holds_the_text(tmp_path: Path) -> None:
    mailbox = await mailbox_in(tmp_path)
    channel = FakeChannel(name="whatsapp", errors=[WindowClosed("24 h")])
    await mailbox.queue("whatsapp", "whatsapp:39333", "ar", [Reply("the answer")])
    await run_for(Sender(mailbox, {"whatsapp": channel}), 1.5)
    assert channel.templates == ["39333"]
    statuses = [(r.kind, r.status) for r in await mailbox.outbox_rows("whatsapp:39333")]
    assert statuses == [("reply", "held"), ("template", "sent")]


async def test_a_retry_resumes_after_the_parts_already_sent(tmp_path: Path) -> None:
    mailbox = await mailbox_in(tmp_path)
    channel = FakeChannel()
    await mailbox.queue("telegram", "telegram:3", "en", [Reply("part one\n\npart two\n\npart three")])

    async def fail_once_after_first_part(user: str, part: object) -> str:
        channel.send_part = original  # type: ignore[method-assign]
        raise RetryLater(1.0, "429 on the second part")

    original = channel.send_part
    sender = Sender(mailbox, {"telegram": channel})
    channel.sent.append(("3", "part one"))  # what the platform already has
    await mailbox.part_sent((await mailbox.outbox_rows("telegram:3"))[0].id, 1, "m1")
    channel.send_part = fail_once_after_first_part  # type: ignore[method-assign]
    await run_for(sender, 3.5)
    assert channel.sent == [("3", "part one"), ("3", "part two"), ("3", "part three")]
