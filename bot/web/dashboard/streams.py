"""Live updates for the dashboard's pages: server-sent events of the mediator's cities or one ticket."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from bot.core.tickets import TicketEvent
from bot.web.dashboard.keys import CLOSING, KEEPALIVE, MEDIATOR, SESSION_ID
from bot.web.keys import MEDIATION, MEDIATORS, TICKET_EVENTS


async def _next_event(
    queue: asyncio.Queue[TicketEvent], closing: asyncio.Event, timeout: float
) -> TicketEvent | None:
    """The next event, or None after ``timeout`` seconds or when the gateway shuts down."""
    getting = asyncio.ensure_future(queue.get())
    stopping = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait({getting, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getting, stopping):
            if not task.done():
                task.cancel()
        await asyncio.gather(getting, stopping, return_exceptions=True)
    return getting.result() if getting.done() and not getting.cancelled() else None


async def _stream(request: web.Request, listen_to: str) -> web.StreamResponse:
    """Events of one ticket (or "*": of the mediator's cities) as text/event-stream, until the client
    goes, the session ends or the gateway shuts down. A comment every KEEPALIVE seconds keeps proxies
    from closing the connection (and tells us when the client has gone)."""
    mediator, session_id = request[MEDIATOR], request[SESSION_ID]
    closing, keepalive = request.app[CLOSING], request.app[KEEPALIVE]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    async with request.config_dict[TICKET_EVENTS].listen(listen_to) as queue:
        # listening before the headers go: a client that has the headers misses nothing published after
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            await response.write(b"retry: 3000\n: connected\n\n")
            while not closing.is_set():
                event = await _next_event(queue, closing, keepalive)
                if event is None:
                    if closing.is_set() or await request.config_dict[MEDIATORS].session(session_id) is None:
                        break  # logged out or expired: the page's next request goes to the login page
                    await response.write(b": keep-alive\n\n")
                elif mediator.may_see(event.city):
                    data = json.dumps({"ticket_id": event.ticket_id, "kind": event.kind})
                    await response.write(f"data: {data}\n\n".encode())
    return response


async def queue_events(request: web.Request) -> web.StreamResponse:
    return await _stream(request, "*")


async def ticket_events(request: web.Request) -> web.StreamResponse:
    mediation = request.config_dict[MEDIATION]
    ticket = await mediation.ticket(request[MEDIATOR], request.match_info["ticket_id"])  # 403 first
    return await _stream(request, ticket.id)


async def on_closing(app: web.Application) -> None:
    app[CLOSING].set()
