"""The web chat's live half: ``GET /api/chat/events`` streams what the one-stop shop writes to the user
(server-sent events), ``POST /api/chat/shown`` says the page showed it.

Both are keyed by the server-issued session (bot.web.webchat), never by an id the client picks. A letter
stays in the mailbox until the page confirms it, so a reply written while the page was closed (or while
the phone lost its connection) is shown when the page is open again. The stream reads the mailbox when
this process posts a letter (it wakes the stream at once) and every few seconds otherwise, since the
mediator may work on another gateway process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import web

from bot.core.errors import InvalidMessage, TooManyRequests
from bot.core.languages import direction
from bot.core.messages import WEB_CHAT, Letter, user_key
from bot.core.ports import Mailbox
from bot.core.text import UnsafeJson, load_json
from bot.web.keys import SETTINGS, TRANSLATIONS
from bot.web.webchat import session_token, session_user

POLL_SECONDS = 3.0  # how often an open stream looks for letters another process posted
KEEPALIVE_SECONDS = 15.0  # a comment now and then: proxies keep the connection, we learn it is gone
STREAM_SECONDS = 600.0  # then the stream ends and the page reconnects (EventSource does on its own)
STREAMS_PER_SESSION = 3  # a few tabs; not a way to hold the gateway's connections


@dataclass
class ChatPages:
    """The open web-chat streams of this process, per user: who to wake when a letter is posted."""

    mailbox: Mailbox
    poll_seconds: float = POLL_SECONDS
    keepalive_seconds: float = KEEPALIVE_SECONDS
    stream_seconds: float = STREAM_SECONDS
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _waiting: dict[str, set[asyncio.Event]] = field(default_factory=lambda: defaultdict(set))

    def wake(self, user_key: str) -> None:
        for event in self._waiting.get(user_key, ()):
            event.set()

    def open_streams(self, user_key: str) -> int:
        return len(self._waiting.get(user_key, ()))

    @contextlib.contextmanager
    def listening(self, user_key: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiting[user_key].add(event)
        try:
            yield event
        finally:
            self._waiting[user_key].discard(event)
            if not self._waiting[user_key]:
                del self._waiting[user_key]


CHAT_PAGES = web.AppKey("chat_pages", ChatPages)


def letter_event(letter: Letter, who: str) -> bytes:
    """One SSE event; its id lets a reconnecting page (Last-Event-ID) skip what it has."""
    data = {
        "id": letter.id,
        "text": letter.text,
        "language": letter.language,
        "direction": direction(letter.language),
        "from_person": letter.from_person,
        "who": who if letter.from_person else "",
    }
    return f"id: {letter.id}\nevent: letter\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def last_event_id(request: web.Request) -> int:
    given = request.headers.get("Last-Event-ID", "") or request.query.get("after", "")
    return int(given) if given.isdigit() and len(given) < 19 else 0


async def _wait(event: asyncio.Event, closing: asyncio.Event, timeout: float) -> None:
    """Until a letter is posted here, the gateway shuts down, or ``timeout`` seconds pass."""
    waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(closing.wait())}
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    event.clear()


async def chat_events(request: web.Request) -> web.StreamResponse:
    token, new = session_token(request)
    if new:  # no session we issued: nothing of anyone's to stream
        raise web.HTTPUnauthorized(text='{"error": "no_session"}', content_type="application/json")
    user = user_key(WEB_CHAT, session_user(token))
    pages = request.app[CHAT_PAGES]
    if pages.open_streams(user) >= STREAMS_PER_SESSION:
        raise TooManyRequests(5.0, request.app[SETTINGS].default_language)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    with pages.listening(user) as posted:
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            await response.write(b"retry: 3000\n: connected\n\n")
            await _stream_letters(request, response, user, posted)
    return response


async def _stream_letters(
    request: web.Request, response: web.StreamResponse, user: str, posted: asyncio.Event
) -> None:
    pages, loop = request.app[CHAT_PAGES], asyncio.get_running_loop()
    after, started = last_event_id(request), loop.time()
    quiet_since = started
    while not pages.closing.is_set() and loop.time() - started < pages.stream_seconds:
        letters = await pages.mailbox.waiting(user, after)
        for letter in letters:
            who = request.app[TRANSLATIONS](letter.language)._("A person from the one-stop shop")
            await response.write(letter_event(letter, who))
            after, quiet_since = letter.id, loop.time()
        if loop.time() - quiet_since >= pages.keepalive_seconds:
            await response.write(b": keep-alive\n\n")
            quiet_since = loop.time()
        await _wait(posted, pages.closing, min(pages.poll_seconds, pages.keepalive_seconds))


async def chat_shown(request: web.Request) -> web.Response:
    """The page showed the letters up to ``up_to``: they leave the mailbox (only this session's)."""
    token, new = session_token(request)
    if new:
        raise web.HTTPUnauthorized(text='{"error": "no_session"}', content_type="application/json")
    try:
        data = load_json(await request.read())
    except UnsafeJson as exc:
        raise InvalidMessage(str(exc)) from None
    up_to = data.get("up_to") if isinstance(data, dict) else None
    if not isinstance(up_to, int) or isinstance(up_to, bool) or not 0 < up_to < 2**62:
        raise InvalidMessage("'up_to' must be the id of a letter the page showed")
    count = await request.app[CHAT_PAGES].mailbox.shown(user_key(WEB_CHAT, session_user(token)), up_to)
    return web.json_response({"shown": count})


async def on_shutdown(app: web.Application) -> None:
    app[CHAT_PAGES].closing.set()


def add_routes(app: web.Application) -> None:
    # no HEAD: it would keep a stream running with nobody to write to
    app.router.add_get("/api/chat/events", chat_events, allow_head=False)
    app.router.add_post("/api/chat/shown", chat_shown)
    app.on_shutdown.append(on_shutdown)
