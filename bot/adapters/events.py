"""In-process news about tickets for the dashboard's live pages (server-sent events).

One gateway process: a broker in memory is enough; with several gateways this becomes a Redis channel
behind the same ``TicketEvents`` port.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core.tickets import TicketEvent


class MemoryTicketEvents:
    def __init__(self) -> None:
        self._listeners: dict[str, set[asyncio.Queue[TicketEvent]]] = defaultdict(set)

    def publish(self, event: TicketEvent) -> None:
        for key in (event.ticket_id, "*"):
            for queue in self._listeners.get(key, ()):
                queue.put_nowait(event)

    @asynccontextmanager
    async def listen(self, ticket_id: str = "*") -> AsyncIterator[asyncio.Queue[TicketEvent]]:
        """Events of one ticket ("*": of every ticket) while the context is open."""
        queue: asyncio.Queue[TicketEvent] = asyncio.Queue()
        self._listeners[ticket_id].add(queue)
        try:
            yield queue
        finally:
            self._listeners[ticket_id].discard(queue)
