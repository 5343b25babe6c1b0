"""The group commit: updates arriving together are stored in one transaction, each webhook learns its
own result, and a failed commit fails every webhook of the batch (so the platforms send again)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.messages import InboundMessage
from bot.messaging.intake import GroupCommit
from tests.fakes.stores import MemoryInbox, MemoryOutbox


class CountingInbox(MemoryInbox):
    def __init__(self) -> None:
        super().__init__(MemoryOutbox())
        self.transactions = 0
        self.broken = False

    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]:
        self.transactions += 1
        if self.broken:
            raise ConnectionError("database unreachable")
        return await super().receive_many(messages)


def update(number: int) -> InboundMessage:
    return InboundMessage("telegram", str(number % 7), f"message {number}", platform_id=str(number))


async def test_updates_arriving_together_share_one_transaction() -> None:
    inbox = CountingInbox()
    intake = GroupCommit(inbox)
    results = await asyncio.gather(*(intake.receive(update(n)) for n in range(50)))
    assert results == [True] * 50
    assert inbox.transactions == 1 and intake.batches == [50]
    again = await asyncio.gather(intake.receive(update(3)), intake.receive(update(50)))
    assert again == [False, True]  # a platform's retry is told apart within a batch


async def test_a_large_burst_is_split_into_batches() -> None:
    inbox = CountingInbox()
    intake = GroupCommit(inbox, max_batch=20)
    assert all(await asyncio.gather(*(intake.receive(update(n)) for n in range(45))))
    assert intake.batches == [20, 20, 5]
    assert len(inbox.rows) == 45


async def test_a_failed_commit_fails_every_webhook_of_the_batch_and_the_next_batch_goes_on() -> None:
    inbox = CountingInbox()
    intake = GroupCommit(inbox)
    inbox.broken = True
    outcomes = await asyncio.gather(*(intake.receive(update(n)) for n in range(3)), return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    inbox.broken = False
    assert await intake.receive(update(9)) is True


async def test_a_webhook_that_gave_up_does_not_break_the_others() -> None:
    inbox = CountingInbox()
    intake = GroupCommit(inbox, window=0.05)
    impatient = asyncio.create_task(intake.receive(update(1)))
    patient = asyncio.create_task(intake.receive(update(2)))
    await asyncio.sleep(0.01)
    impatient.cancel()  # the platform closed the connection
    assert await patient is True
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert len(inbox.rows) == 2  # stored anyway: a retry of it will be a duplicate, not lost
