"""Works through the inbox: one user's messages in order, different users concurrently.

When Rasa or the action server is down, the user gets one "we'll answer shortly" message, their messages
wait in the inbox, and they are answered, in order, when the engine is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from bot.core.errors import EngineUnavailable
from bot.core.messages import ChatResult, Inbound, InboundMessage, Reply
from bot.core.ports import Inbox, Outbox

log = logging.getLogger(__name__)
MAX_CONCURRENT_USERS = 16
ENGINE_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)


class Answerer(Protocol):
    """What the worker asks for each message (``ConversationService``)."""

    async def answer(self, message: InboundMessage) -> ChatResult: ...
    async def language_for(self, message: InboundMessage) -> str: ...
    def outage_notice(self, language: str) -> Reply: ...


class InboxWorker:
    def __init__(self, inbox: Inbox, outbox: Outbox, answerer: Answerer, wake_sender: asyncio.Event) -> None:
        self.inbox = inbox
        self.outbox = outbox
        self.answerer = answerer
        self.wake = asyncio.Event()
        self.wake_sender = wake_sender
        self._active: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_USERS)
        self._engine_down_for: set[str] = set()  # users already told to wait, in this outage
        self._engine_failures = 0

    async def run(self) -> None:
        """Forever: start a worker for each user with pending messages and none running."""
        while True:
            for user_key in await self.inbox.pending_users():
                if user_key not in self._active:
                    self._active[user_key] = asyncio.create_task(self._drain(user_key))
            self.wake.clear()
            delay = ENGINE_RETRY_SECONDS[min(self._engine_failures, len(ENGINE_RETRY_SECONDS) - 1)]
            with contextlib.suppress(asyncio.TimeoutError):  # a periodic look: retries after an outage
                await asyncio.wait_for(self.wake.wait(), timeout=delay if self._engine_failures else 1.0)

    async def stop(self) -> None:
        for task in self._active.values():
            task.cancel()
        await asyncio.gather(*self._active.values(), return_exceptions=True)

    async def _drain(self, user_key: str) -> None:
        try:
            async with self._slots:
                while (inbound := await self.inbox.next_for(user_key)) is not None:
                    if not await self._process(inbound):
                        return  # the engine is down: the message stays first in line
        finally:
            self._active.pop(user_key, None)

    async def _process(self, inbound: Inbound) -> bool:
        message = inbound.message
        try:
            result = await self.answerer.answer(message)
        except EngineUnavailable as exc:
            await self._engine_down(inbound, exc)
            return False
        self._engine_failures = 0
        self._engine_down_for.discard(message.user_key)
        await self.inbox.finish(inbound, result.language, result.replies, ephemeral=result.forgotten)
        self.wake_sender.set()
        return True

    async def _engine_down(self, inbound: Inbound, exc: EngineUnavailable) -> None:
        message = inbound.message
        self._engine_failures += 1
        log.warning("engine unavailable for %s message %d: %s", message.channel, inbound.id, exc)
        await self.inbox.postpone(inbound.id)
        if message.user_key not in self._engine_down_for:
            self._engine_down_for.add(message.user_key)
            language = exc.language or await self.answerer.language_for(message)
            notice = self.answerer.outage_notice(language)
            await self.outbox.queue(message.channel, message.user_key, language, [notice])
            self.wake_sender.set()
