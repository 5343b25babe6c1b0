"""Sends the outbox: retries with backoff, honours the platforms' rate limits and ``retry_after``,
records the platform's message id, and records why a message finally failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping

from bot.core.clock import utcnow
from bot.core.errors import DeliveryError, RetryLater, Undeliverable, WindowClosed
from bot.core.messages import Outbound, OutboundKind
from bot.core.ports import OutboundChannel, Outbox
from bot.messaging.supervisor import Heartbeat

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (1, 2, 5, 15, 30, 60, 120, 300)


class RateLimit:
    """At most one message per ``per_chat`` seconds to a chat, and ``overall`` per second in total."""

    def __init__(self, per_chat: float, overall: float) -> None:
        self.per_chat, self.interval = per_chat, 1.0 / overall
        self._last_chat: dict[str, float] = {}
        self._last_any = 0.0
        self._lock = asyncio.Lock()

    async def wait(self, chat: str) -> None:
        async with self._lock:
            now = time.monotonic()
            ready = max(self._last_chat.get(chat, 0.0) + self.per_chat, self._last_any + self.interval)
            if ready > now:
                await asyncio.sleep(ready - now)
            self._last_any = self._last_chat[chat] = time.monotonic()


# Telegram: 1 message/s per chat, ~30/s overall. WhatsApp Cloud API: ~80/s per number.
LIMITS = {"telegram": (1.0, 30.0), "whatsapp": (0.2, 80.0)}


class OutboxSender:
    def __init__(self, outbox: Outbox, channels: Mapping[str, OutboundChannel]) -> None:
        self.outbox = outbox
        self.channels = channels
        self.wake = asyncio.Event()
        self.limits = {name: RateLimit(*LIMITS.get(name, (0.0, 100.0))) for name in channels}
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, heartbeat: Heartbeat | None = None) -> None:
        while True:
            if heartbeat is not None:
                heartbeat.beat()
            for outbound in await self.outbox.due(utcnow()):
                if outbound.user_key not in self._busy and outbound.channel in self.channels:
                    self._busy.add(outbound.user_key)
                    task = asyncio.create_task(self._deliver_user(outbound))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):  # look again: retries fall due with time
                await asyncio.wait_for(self.wake.wait(), timeout=0.5)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver_user(self, outbound: Outbound) -> None:
        """Send this user's due replies one after another (order within a conversation holds)."""
        try:
            current: Outbound | None = outbound
            while current is not None:
                if not await self._deliver(current):
                    return
                due = [o for o in await self.outbox.due(utcnow()) if o.user_key == current.user_key]
                current = due[0] if due else None
        finally:
            self._busy.discard(outbound.user_key)
            self.wake.set()

    async def _deliver(self, outbound: Outbound) -> bool:
        """Send one reply; False when this user's line stops here for now (a retry, or another gateway
        process sends it)."""
        channel = self.channels[outbound.channel]
        await self.limits[outbound.channel].wait(outbound.user)
        if not await self.outbox.claim(outbound.id):
            return False
        try:
            if outbound.kind == OutboundKind.TEMPLATE:
                message_id = await channel.send_template(outbound.user, outbound.language)
            else:
                message_id = await self._send_parts(channel, outbound)
        except WindowClosed:
            await self._reopen_window(outbound)
            return False
        except RetryLater as exc:
            await self._retry(outbound, exc.seconds, exc.reason)
            return False
        except Undeliverable as exc:
            log.warning("outbox %d to %s failed for good: %s", outbound.id, outbound.channel, exc)
            await self.outbox.failed(outbound.id, str(exc))
            return True
        except DeliveryError as exc:
            await self._retry(outbound, None, str(exc))
            return False
        await self.outbox.sent(outbound.id, message_id)
        return True

    async def _send_parts(self, channel: OutboundChannel, outbound: Outbound) -> str:
        """Send the parts not yet sent, recording each, so that a retry resumes where it stopped."""
        parts = channel.parts(outbound.reply, outbound.language)
        message_id = ""
        for index in range(outbound.parts_sent, len(parts)):
            if index > outbound.parts_sent:
                await self.limits[outbound.channel].wait(outbound.user)
            message_id = await channel.send_part(outbound.user, parts[index])
            if index < len(parts) - 1:
                await self.outbox.part_sent(outbound.id, index + 1, message_id)
        return message_id

    async def _retry(self, outbound: Outbound, seconds: float | None, reason: str) -> None:
        if outbound.attempts + 1 >= MAX_ATTEMPTS:
            await self.outbox.failed(outbound.id, f"gave up after {MAX_ATTEMPTS} attempts: {reason}")
            return
        delay = seconds if seconds is not None else BACKOFF_SECONDS[min(outbound.attempts, 7)]
        log.info("outbox %d: retry in %.0f s (%s)", outbound.id, delay, reason)
        await self.outbox.retry(outbound.id, delay, reason)

    async def _reopen_window(self, outbound: Outbound) -> None:
        """Hold the replies and send the approved template that asks the user to write again."""
        await self.outbox.hold(outbound.user_key)
        await self.outbox.queue(
            outbound.channel, outbound.user_key, outbound.language, [outbound.reply], OutboundKind.TEMPLATE
        )
