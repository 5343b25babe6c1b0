"""The sender with a fake channel and the memory outbox: retry_after honoured, permanent failures
recorded, order kept."""

from __future__ import annotations

import asyncio

from bot.core.errors import RetryLater, Undeliverable, WindowClosed
from bot.core.messages import Reply
from bot.messaging.sender import OutboxSender
from tests.fakes.ports import FakeChannel
from tests.fakes.stores import MemoryOutbox


async def run_for(sender: OutboxSender, seconds: float) -> None:
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await sender.stop()


async def test_replies_are_sent_in_order_after_a_retry_after() -> None:
    outbox = MemoryOutbox()
    channel = FakeChannel(errors=[RetryLater(1.0, "429")])
    await outbox.queue("telegram", "telegram:1", "en", [Reply("first"), Reply("second")])
    sender = OutboxSender(outbox, {"telegram": channel})
    await run_for(sender, 0.6)
    assert channel.sent == []  # still waiting for retry_after
    await run_for(sender, 3.5)
    assert channel.sent == [("1", "first"), ("1", "second")]
    rows = outbox.rows("telegram:1")
    assert [r.status for r in rows] == ["sent", "sent"]
    assert rows[0].attempts == 2 and rows[0].platform_message_id == "m1"


async def test_permanent_failure_is_recorded_with_its_reason() -> None:
    outbox = MemoryOutbox()
    channel = FakeChannel(errors=[Undeliverable("telegram: Forbidden: bot was blocked by the user")])
    await outbox.queue("telegram", "telegram:2", "en", [Reply("hello")])
    await run_for(OutboxSender(outbox, {"telegram": channel}), 1.0)
    [row] = outbox.rows("telegram:2")
    assert row.status == "failed" and "blocked" in (row.error or "")


async def test_window_closed_sends_the_template_and_holds_the_text() -> None:
    outbox = MemoryOutbox()
    channel = FakeChannel(name="whatsapp", errors=[WindowClosed("24 h")])
    await outbox.queue("whatsapp", "whatsapp:39333", "ar", [Reply("the answer")])
    await run_for(OutboxSender(outbox, {"whatsapp": channel}), 1.5)
    assert channel.templates == ["39333"]
    statuses = [(r.kind, r.status) for r in outbox.rows("whatsapp:39333")]
    assert statuses == [("reply", "held"), ("template", "sent")]


async def test_a_retry_resumes_after_the_parts_already_sent() -> None:
    outbox = MemoryOutbox()
    channel = FakeChannel()
    await outbox.queue("telegram", "telegram:3", "en", [Reply("part one\n\npart two\n\npart three")])

    async def fail_once_after_first_part(user: str, part: object) -> str:
        channel.send_part = original  # type: ignore[method-assign]
        raise RetryLater(1.0, "429 on the second part")

    original = channel.send_part
    sender = OutboxSender(outbox, {"telegram": channel})
    channel.sent.append(("3", "part one"))  # what the platform already has
    await outbox.part_sent((outbox.rows("telegram:3"))[0].id, 1, "m1")
    channel.send_part = fail_once_after_first_part  # type: ignore[method-assign]
    await run_for(sender, 3.5)
    assert channel.sent == [("3", "part one"), ("3", "part two"), ("3", "part three")]
