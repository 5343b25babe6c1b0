"""Works through the inbox: one user's messages in order, different users concurrently.

When Rasa or the action server is down, the user gets one "we'll answer shortly" message, their messages
wait in the inbox, and they are answered, in order, when the engine is back. Each waiting message backs
off on its own: one user's trouble slows nobody else.

A message that fails for any other reason (a bug, a reply no store accepts) is tried three times, then
parked with the reason: the user gets an apology with the offer of a person, and their next message goes
on. Without that one poison message would be tried every second, forever, and block its user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from bot.core.errors import EngineUnavailable
from bot.core.messages import ChatResult, Inbound, InboundMessage, Reply
from bot.core.ports import Inbox, Outbox
from bot.messaging.supervisor import Heartbeat, where

log = logging.getLogger(__name__)
MAX_CONCURRENT_USERS = 16
ENGINE_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)  # per message, while the engine is down
FAILURE_RETRY_SECONDS = (2.0, 10.0)  # after the first and the second failure of one message
MAX_FAILURES = 3  # then the message is parked
LOOK_EVERY_SECONDS = 1.0  # retries fall due with time, not only when a message arrives
RENEW_EVERY_SECONDS = 5.0  # the inbox's claims last 15 s: renewed well before


class Answerer(Protocol):
    """What the worker asks for each message (``ConversationService``)."""

    async def answer(self, message: InboundMessage) -> ChatResult: ...
    async def language_for(self, message: InboundMessage) -> str: ...
    def outage_notice(self, language: str) -> Reply: ...
    def apology(self, language: str) -> Reply: ...


class InboxWorker:
    def __init__(
        self,
        inbox: Inbox,
        outbox: Outbox,
        answerer: Answerer,
        wake_sender: asyncio.Event,
        default_language: str = "it",
    ) -> None:
        self.inbox = inbox
        self.outbox = outbox
        self.answerer = answerer
        self.wake = asyncio.Event()
        self.wake_sender = wake_sender
        self.default_language = default_language
        self._active: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_USERS)
        self._engine_down_for: set[str] = set()  # users already told to wait, in this outage
        self._working: set[int] = set()  # inbox ids claimed and being answered now
        self._renewed_at = time.monotonic()

    async def run(self, heartbeat: Heartbeat | None = None) -> None:
        """Forever: start a worker for each user with a message due and none running."""
        while True:
            if heartbeat is not None:
                heartbeat.beat()
            await self._renew_claims()
            for user_key in await self.inbox.pending_users():
                if user_key not in self._active:
                    self._active[user_key] = asyncio.create_task(self._drain(user_key))
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=LOOK_EVERY_SECONDS)

    async def _renew_claims(self) -> None:
        """Keep the leases on the messages being worked (a slow engine) from running out."""
        now = time.monotonic()
        if self._working and now - self._renewed_at >= RENEW_EVERY_SECONDS:
            self._renewed_at = now
            await self.inbox.renew(sorted(self._working))

    async def stop(self) -> None:
        for task in self._active.values():
            task.cancel()
        await asyncio.gather(*self._active.values(), return_exceptions=True)

    async def _drain(self, user_key: str) -> None:
        try:
            async with self._slots:
                while (inbound := await self.inbox.next_for(user_key)) is not None:
                    self._working.add(inbound.id)
                    try:
                        if not await self._process(inbound):
                            return  # it waits for a retry, first in its user's line
                    finally:
                        self._working.discard(inbound.id)
        except Exception as exc:  # noqa: BLE001 - the store failed: the message stays pending for the next round
            log.error("inbox: a user's messages could not be worked (%s); trying again", where(exc))
        finally:
            self._active.pop(user_key, None)

    async def _process(self, inbound: Inbound) -> bool:
        """Answer one message; False when it must wait (and its user's later messages with it)."""
        message = inbound.message
        try:
            result = await self.answerer.answer(message)
        except EngineUnavailable as exc:
            await self._engine_down(inbound, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - anything else is this message's problem, not the engine's
            return await self._failed(inbound, exc)
        self._engine_down_for.discard(message.user_key)
        await self.inbox.finish(inbound, result.language, result.replies, ephemeral=result.forgotten)
        self.wake_sender.set()
        return True

    async def _engine_down(self, inbound: Inbound, exc: EngineUnavailable) -> None:
        message = inbound.message
        delay = ENGINE_RETRY_SECONDS[min(inbound.attempts, len(ENGINE_RETRY_SECONDS) - 1)]
        log.warning("engine unavailable for %s message %d: %s", message.channel, inbound.id, exc)
        await self.inbox.postpone(inbound.id, delay)
        if message.user_key not in self._engine_down_for:
            self._engine_down_for.add(message.user_key)
            language = exc.language or await self._language(message)
            notice = self.answerer.outage_notice(language)
            await self.outbox.queue(message.channel, message.user_key, language, [notice])
            self.wake_sender.set()

    async def _failed(self, inbound: Inbound, exc: Exception) -> bool:
        """Try again later, or after the last try park the message and apologise."""
        reason = where(exc)
        failures = inbound.failures + 1
        if failures < MAX_FAILURES:
            delay = FAILURE_RETRY_SECONDS[min(failures - 1, len(FAILURE_RETRY_SECONDS) - 1)]
            log.error("inbox message %d failed (%s); again in %.0f s", inbound.id, reason, delay)
            await self.inbox.failed(inbound.id, delay, reason)
            return False
        log.error("inbox message %d parked after %d failures (%s)", inbound.id, failures, reason)
        language = await self._language(inbound.message)
        await self.inbox.park(inbound, reason, language, [self.answerer.apology(language)])
        self.wake_sender.set()
        return True

    async def _language(self, message: InboundMessage) -> str:
        """The user's language, or the desk's default when even that cannot be read."""
        try:
            return await self.answerer.language_for(message)
        except Exception as exc:  # noqa: BLE001 - the apology must still go out
            log.error("no language for an inbox message (%s)", where(exc))
            return message.language or self.default_language
