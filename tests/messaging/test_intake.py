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


class HeldInbox(CountingInbox):
    """Each batch's commit waits until the test lets it finish: a slow disk, on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.writing: list[list[str]] = []  # the texts of each batch, as it began
        self.release: list[asyncio.Event] = []

    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]:
        self.writing.append([m.text for m in messages])
        done = asyncio.Event()
        self.release.append(done)
        await done.wait()
        return await super().receive_many(messages)


def from_user(user: str, number: int) -> InboundMessage:
    return InboundMessage("telegram", user, f"message {number}", platform_id=f"{user}-{number}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_update_arriving_during_a_commit_is_written_at_once_in_a_batch_of_its_own() -> None:
    inbox = HeldInbox()
    intake = GroupCommit(inbox, max_in_flight=2)
    first = asyncio.create_task(intake.receive(from_user("ana", 1)))
    await settle()
    second = asyncio.create_task(intake.receive(from_user("bo", 1)))
    await settle()
    assert inbox.writing == [["message 1"], ["message 1"]], "the second did not wait for the first commit"
    inbox.release[1].set()
    assert await second is True
    assert not first.done()
    inbox.release[0].set()
    assert await first is True


async def test_a_users_next_update_waits_for_the_commit_of_their_previous_one() -> None:
    inbox = HeldInbox()
    intake = GroupCommit(inbox, max_in_flight=3)
    first = asyncio.create_task(intake.receive(from_user("ana", 1)))
    await settle()
    later = [asyncio.create_task(intake.receive(from_user("ana", n))) for n in (2, 3)]
    other = asyncio.create_task(intake.receive(from_user("bo", 1)))
    await settle()
    assert inbox.writing == [["message 1"], ["message 1"]], "only bo's went beside ana's first"
    inbox.release[0].set()
    await settle()
    assert inbox.writing[2] == ["message 2", "message 3"], "ana's next two, in order, after her first"
    for event in inbox.release[1:]:
        event.set()
    assert await first and all(await asyncio.gather(*later, other))
    assert [row.message.text for row, _ in inbox.rows if row.message.user == "ana"] == [
        "message 1",
        "message 2",
        "message 3",
    ]


async def test_no_more_batches_at_once_than_allowed() -> None:
    inbox = HeldInbox()
    intake = GroupCommit(inbox, max_in_flight=2)
    tasks = []
    for user in ("ana", "bo", "cy"):
        tasks.append(asyncio.create_task(intake.receive(from_user(user, 1))))
        await settle()
    assert len(inbox.writing) == 2, "cy's update waits for a free batch"
    inbox.release[0].set()
    await settle()
    assert len(inbox.writing) == 3
    for event in inbox.release[1:]:
        event.set()
    assert all(await asyncio.gather(*tasks))
