"""Where webhooks hand their updates to the inbox: a group commit.

A webhook must answer within milliseconds (Telegram and Meta treat a slow one as failing and send again),
but it may answer only once its update is durably stored. One transaction per update means one disk flush
per update: at 200 updates a second they queue behind each other. Here the updates that arrive together
are stored in one statement, and an update that arrives while a batch is being written starts a batch of
its own at once, up to ``max_in_flight`` batches at a time (PostgreSQL flushes concurrent commits
together). Each webhook answers when its batch has committed. A user's updates are never in two batches
at once: a later one waits for the earlier one's commit, so they reach the inbox in the order they came.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.core.messages import InboundMessage

log = logging.getLogger(__name__)
# how long the first update of a batch waits for others: none. At 200 updates/s one arrives every 5 ms on
# average, so a 2 ms window (until 2026-12-07) mostly added 2 ms and a timer wake-up to an acknowledgement
WINDOW_SECONDS = 0.0
MAX_BATCH = 200

Waiting = tuple[InboundMessage, "asyncio.Future[bool]"]


class StoresMany(Protocol):
    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]: ...


class GroupCommit:
    """``receive(message)``: True once stored, False if it was stored before (a platform's retry).
    A failed commit fails every webhook of its batch (the platforms then send again).
    ``max_in_flight``: batches written at once (1 on SQLite, which has one writer).
    ``enabled=False`` stores each update in its own transaction (what it replaces, for comparison)."""

    def __init__(
        self,
        inbox: StoresMany,
        window: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        enabled: bool = True,
        max_in_flight: int = 1,
    ) -> None:
        self.inbox = inbox
        self.enabled = enabled
        self.window = window
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._waiting: list[Waiting] = []
        self._in_flight = 0  # batches being written, or started and about to take what waits
        self._starting = False  # a batch has been started that has not yet taken what waits
        self._users_writing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # a reference to each, until it is done
        self.batches: list[int] = []  # sizes of the last batches (for the benchmark), bounded

    async def receive(self, message: InboundMessage) -> bool:
        if not self.enabled:
            (alone,) = await self.inbox.receive_many([message])
            return alone
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, stored))
        self._start_batch()
        return await stored

    def _start_batch(self) -> None:
        """A new batch for what waits, unless one is about to take it, enough are being written, or
        every waiting update is of a user whose earlier update is being written."""
        if self._starting or self._in_flight >= self.max_in_flight:
            return
        if not any(message.user_key not in self._users_writing for message, _ in self._waiting):
            return
        self._starting = True
        self._in_flight += 1
        task = asyncio.create_task(self._write_batch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[Waiting]:
        """What waits, in order, but none of a user whose earlier update is still being written."""
        batch: list[Waiting] = []
        left: list[Waiting] = []
        busy = set(self._users_writing)
        for item in self._waiting:
            user = item[0].user_key
            if user in busy or len(batch) >= self.max_batch:
                busy.add(user)  # their later updates wait too, behind this one
                left.append(item)
            else:
                batch.append(item)
        self._waiting = left
        return batch

    async def _write_batch(self) -> None:
        try:
            await asyncio.sleep(self.window)
            self._starting = False
            batch = self._take()
            users = {message.user_key for message, _ in batch}
            self._users_writing |= users
            self._start_batch()  # what did not fit in this one
            try:
                if batch:
                    await self._write(batch)
            finally:
                self._users_writing -= users
        finally:
            self._in_flight -= 1
            self._start_batch()  # what waited for this one

    async def _write(self, batch: list[Waiting]) -> None:
        self.batches = [*self.batches[-99:], len(batch)]
        try:
            results = await self.inbox.receive_many([message for message, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to every waiting webhook, which answers 5xx
            for _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
            return
        for (_, stored), result in zip(batch, results, strict=True):
            if not stored.done():
                stored.set_result(result)
