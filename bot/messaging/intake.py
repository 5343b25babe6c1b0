"""Where webhooks hand their updates to the inbox: a group commit.

A webhook must answer within milliseconds (Telegram and Meta treat a slow one as failing and send again),
but it may answer only once its update is durably stored. One transaction per update means one disk flush
per update: at 200 updates a second they queue behind each other. Here an update that finds no commit
under way is written at once, and the updates that arrive while a commit is under way are stored together
in the next one (as PostgreSQL groups its own commits): each webhook answers when its transaction commits,
and an update that arrives alone waits for nobody.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.core.messages import InboundMessage

log = logging.getLogger(__name__)
# how long the first update of a batch waits for others: none. At 200 updates/s one arrives every 5 ms on
# average, so a 2 ms window (until 2026-12-07) mostly added 2 ms and a timer wake-up to an acknowledgement;
# under load the batches form by themselves, from the updates that arrive during a commit
WINDOW_SECONDS = 0.0
MAX_BATCH = 200


class StoresMany(Protocol):
    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]: ...


class GroupCommit:
    """``receive(message)``: True once stored, False if it was stored before (a platform's retry).
    A failed commit fails every webhook of the batch (the platforms then send again).
    ``enabled=False`` stores each update in its own transaction (what it replaces, for comparison)."""

    def __init__(
        self,
        inbox: StoresMany,
        window: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        enabled: bool = True,
    ) -> None:
        self.inbox = inbox
        self.enabled = enabled
        self.window = window
        self.max_batch = max_batch
        self._waiting: list[tuple[InboundMessage, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self.batches: list[int] = []  # sizes of the last batches (for the benchmark), bounded

    async def receive(self, message: InboundMessage) -> bool:
        if not self.enabled:
            (alone,) = await self.inbox.receive_many([message])
            return alone
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, stored))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await stored

    async def _flush(self) -> None:
        """Write what waits, batch after batch, until nothing does."""
        await asyncio.sleep(self.window)
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            self.batches = [*self.batches[-99:], len(batch)]
            try:
                results = await self.inbox.receive_many([message for message, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting webhook, which answers 5xx
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(exc)
                continue
            for (_, stored), result in zip(batch, results, strict=True):
                if not stored.done():
                    stored.set_result(result)
