"""Processes the inbox: one user's messages in order, different users concurrently.

When Rasa or the action server is down, the user gets one "we'll answer shortly" message, their messages
wait in the inbox, and they are answered, in order, when the engine is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.channels.base import Kind
from bot.dialogue.answers import person_button
from bot.dialogue.turn import Reply
from bot.errors import EngineUnavailable
from bot.gateway.conversation import Conversations
from bot.i18n import Translations
from bot.mailbox import Inbound, Mailbox

log = logging.getLogger(__name__)
MAX_CONCURRENT_USERS = 16
ENGINE_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)


class Router:
    def __init__(
        self,
        mailbox: Mailbox,
        conversations: Conversations,
        translations: Translations,
        wake_sender: asyncio.Event,
    ) -> None:
        self.mailbox = mailbox
        self.conversations = conversations
        self.translations = translations
        self.wake = asyncio.Event()
        self.wake_sender = wake_sender
        self._active: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_USERS)
        self._engine_down_for: set[str] = set()  # users already told to wait, in this outage
        self._engine_failures = 0

    async def run(self) -> None:
        """Forever: start a worker for each user with pending messages and none running."""
        while True:
            for user_key in await self.mailbox.pending_users():
                if user_key not in self._active:
                    self._active[user_key] = asyncio.create_task(self._drain(user_key))
            self.wake.clear()
            delay = ENGINE_RETRY_SECONDS[min(self._engine_failures, len(ENGINE_RETRY_SECONDS) - 1)]
            with contextlib.suppress(
                asyncio.TimeoutError
            ):  # periodic look at the inbox: retries after an engine outage
                await asyncio.wait_for(self.wake.wait(), timeout=delay if self._engine_failures else 1.0)

    async def stop(self) -> None:
        for task in self._active.values():
            task.cancel()
        await asyncio.gather(*self._active.values(), return_exceptions=True)

    async def _drain(self, user_key: str) -> None:
        try:
            async with self._slots:
                while (inbound := await self.mailbox.next_for(user_key)) is not None:
                    if not await self._process(inbound):
                        return  # the engine is down: the message stays first in line
        finally:
            self._active.pop(user_key, None)

    async def _process(self, inbound: Inbound) -> bool:
        message = inbound.message
        try:
            forgotten = False
            if message.kind is Kind.TEXT:
                result = await self.conversations.handle(message)
                language, replies, forgotten = result.language, result.replies, result.forgotten
            else:
                language = await self.conversations.language_for(message)
                replies = [self._not_text_reply(message.kind, language)]
        except EngineUnavailable as exc:
            await self._engine_down(inbound, exc)
            return False
        self._engine_failures = 0
        self._engine_down_for.discard(message.user_key)
        await self.mailbox.finish(inbound, language, replies, ephemeral=forgotten)
        self.wake_sender.set()
        return True

    async def _engine_down(self, inbound: Inbound, exc: EngineUnavailable) -> None:
        message = inbound.message
        self._engine_failures += 1
        log.warning("engine unavailable for %s message %d: %s", message.channel, inbound.id, exc)
        await self.mailbox.postpone(inbound.id)
        if message.user_key not in self._engine_down_for:
            self._engine_down_for.add(message.user_key)
            language = exc.language or await self.conversations.language_for(message)
            tr = self.translations(language)
            notice = tr._("We received your message. We will answer shortly.")
            await self.mailbox.queue(message.channel, message.user_key, language, [Reply(notice)])
            self.wake_sender.set()

    def _not_text_reply(self, kind: Kind, language: str) -> Reply:
        tr = self.translations(language)
        if kind is Kind.VOICE:
            text = tr._(
                "I can't listen to voice messages yet. Please write your question, or talk to a person."
            )
            return Reply(text, (person_button(tr),))
        return Reply(tr._("I can only read text messages. Please write your question in words."))
