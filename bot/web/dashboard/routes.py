"""The dashboard's pages, JSON API and live event streams (mounted under /dashboard).

Access rule, everywhere: ``TicketStore`` answers ``TicketNotFound`` both for a ticket that does not exist
and for one of a city the mediator does not work for (on purpose: the answer must not tell them apart).
The dashboard maps it to **403** in both cases, for pages, the API and the event stream alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.web.dashboard import auth
from bot.web.dashboard.auth import is_https, see_other
from bot.web.dashboard.keys import CATALOG, CLOSING, KEEPALIVE, MEDIATOR, SESSION_ID
from bot.web.dashboard.responses import error_response, is_api, render
from bot.web.dashboard.views import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    language_options,
    mediator_view,
    ticket_summary,
    ticket_view,
    topic_label,
)
from bot.dialogue.turn import Reply
from bot.core.errors import SportelloError
from bot.web.keys import MAILBOX, MEDIATORS, SENDER, SETTINGS, TICKET_EVENTS, TICKETS, TRANSLATIONS
from bot.core.languages import LANGUAGES
from bot.adapters.sql.inbox import utcnow
from bot.adapters.events import TicketEvent
from bot.core.tickets import Author, Mediator, Outcome, Role, Status, Ticket
from bot.adapters.sql.tickets import NotAllowed, QueueFilter, TicketNotFound

log = logging.getLogger(__name__)

SCOPES = {"all": "All tickets", "unassigned": "Unassigned", "mine": "Mine"}
DONE = {
    "claim": "You claimed this ticket.",
    "release": "Ticket released: the user is talking with the assistant again.",
    "reply": "Reply sent.",
    "note": "Note saved.",
    "close": "Ticket closed: the user is talking with the assistant again.",
    "reassign": "Ticket reassigned.",
}
FORBIDDEN_TICKET = "No such ticket, or not a ticket of your cities."


class DashboardError(SportelloError):
    """A request the dashboard refuses; ``status`` is the HTTP status of the answer."""

    status = 400


class BadInput(DashboardError):
    status = 400


class Forbidden(DashboardError):
    status = 403


class Conflict(DashboardError):
    status = 409


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except TicketNotFound:
        return error_response(request, 403, FORBIDDEN_TICKET)
    except NotAllowed as exc:
        return error_response(request, 409, f"Not possible: {exc}.")
    except DashboardError as exc:
        return error_response(request, exc.status, str(exc))


# the queue -------------------------------------------------------------------------------------------
def parse_filter(query: Mapping[str, str], topics: Mapping[str, object]) -> QueueFilter:
    """The queue filter from the query string; unknown values are ignored (no filter)."""
    scope = query.get("scope", "all")
    language, topic, status = query.get("language"), query.get("topic"), query.get("status")
    return QueueFilter(
        scope=scope if scope in SCOPES else "all",
        language=language if language in LANGUAGES else None,
        topic=topic if topic in topics else None,
        status=status if status in {s.value for s in Status} else None,
    )


async def _queue(request: web.Request) -> tuple[QueueFilter, list[dict[str, Any]]]:
    mediator = request[MEDIATOR]
    catalog = request.app[CATALOG]
    wanted = parse_filter(request.query, catalog.topics)
    tickets = await request.config_dict[TICKETS].queue(mediator, wanted)
    now = utcnow()
    # the store filters by city already; render nothing else, whatever happens there
    return wanted, [ticket_summary(t, catalog, now) for t in tickets if mediator.may_see(t.city)]


async def queue_page(request: web.Request) -> web.Response:
    wanted, rows = await _queue(request)
    catalog = request.app[CATALOG]
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "wanted": wanted,
            "scopes": SCOPES,
            "languages": language_options(),
            "topics": [(t, topic_label(t)) for t in catalog.topics],
            "statuses": [(s.value, label) for s, label in STATUS_LABELS.items()],
        },
    )


async def queue_api(request: web.Request) -> web.Response:
    wanted, rows = await _queue(request)
    filters = {
        "scope": wanted.scope,
        "language": wanted.language,
        "topic": wanted.topic,
        "status": wanted.status,
    }
    return web.json_response({"filter": filters, "tickets": rows})


# one ticket ------------------------------------------------------------------------------------------
async def _ticket(request: web.Request) -> Ticket:
    """The ticket of the URL, if this mediator may see it (``TicketNotFound`` -> 403 otherwise)."""
    return await request.config_dict[TICKETS].get_for(request[MEDIATOR], request.match_info["ticket_id"])


async def ticket_page(request: web.Request) -> web.Response:
    mediator = request[MEDIATOR]
    ticket = await _ticket(request)
    await request.config_dict[TICKETS].audit(mediator, "view", ticket.id)
    catalog = request.app[CATALOG]
    colleagues: list[dict[str, Any]] = []
    if mediator.role is Role.COORDINATOR:
        colleagues = [
            mediator_view(m, catalog)
            for m in await request.config_dict[MEDIATORS].all()
            if m.active and m.may_see(ticket.city)
        ]
    is_open = ticket.status is not Status.CLOSED
    return render(
        request,
        "ticket.html",
        {
            "ticket": ticket_view(ticket, catalog, utcnow()),
            "done": DONE.get(request.query.get("done", "")),
            "can_claim": is_open and ticket.assignee_id != mediator.id,
            "can_release": ticket.held,
            "can_reply": is_open,
            "can_close": is_open,
            "can_reassign": is_open and mediator.role is Role.COORDINATOR,
            "colleagues": colleagues,
            "outcomes": [(o.value, label) for o, label in OUTCOME_LABELS.items()],
            "max_text": request.config_dict[SETTINGS].max_text_chars,
        },
    )


async def ticket_api(request: web.Request) -> web.Response:
    ticket = await _ticket(request)
    await request.config_dict[TICKETS].audit(request[MEDIATOR], "view", ticket.id, "api")
    return web.json_response(ticket_view(ticket, request.app[CATALOG], utcnow()))


# what a mediator does --------------------------------------------------------------------------------
def publish(request: web.Request, ticket: Ticket, kind: str) -> None:
    request.config_dict[TICKET_EVENTS].publish(TicketEvent(ticket.id, kind, ticket.city))


async def send_to_user(request: web.Request, ticket: Ticket, text: str) -> bool:
    """Queue ``text`` for the ticket's user on their own channel; False when nothing was queued."""
    user_key = await request.config_dict[TICKETS].user_key_of(ticket)
    if user_key is None:  # the user asked to be forgotten: no address any more
        log.info("ticket %s: no user address, nothing sent", ticket.id)
        return False
    channel = user_key.split(":")[0]
    if channel == "webchat":
        # The web chat has no push channel: the browser polls /api/chat, nothing can be sent from here.
        return False
    # Outside WhatsApp's 24-hour window the sender sends the approved template and holds the text.
    await request.config_dict[MAILBOX].queue(channel, user_key, ticket.language, [Reply(text)])
    request.config_dict[SENDER].wake.set()
    return True


async def back_to_assistant(request: web.Request, ticket: Ticket) -> None:
    """After a release or a close: tell the user (in their language) and keep it in the transcript."""
    tr = request.config_dict[TRANSLATIONS](ticket.language)
    text = tr._("You are talking with the assistant again.")
    await request.config_dict[TICKETS].add_entry(ticket.id, Author.BOT, text)
    await send_to_user(request, ticket, text)


def _text(data: Mapping[str, str], request: web.Request, what: str) -> str:
    text = data.get("text", "").strip()
    limit = request.config_dict[SETTINGS].max_text_chars
    if not text:
        raise BadInput(f"Write the {what} first.")
    if len(text) > limit:
        raise BadInput(f"The {what} is longer than {limit} characters.")
    return text


async def claim(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    await request.config_dict[TICKETS].claim(mediator, ticket.id)
    publish(request, ticket, "status")


async def release(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    if not ticket.held:
        raise Conflict("Nobody holds this ticket: there is nothing to release.")
    await request.config_dict[TICKETS].release(mediator, ticket.id)
    await back_to_assistant(request, ticket)
    publish(request, ticket, "status")


async def reply(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    text = _text(data, request, "reply")
    await request.config_dict[TICKETS].reply(mediator, ticket.id, text)
    await send_to_user(request, ticket, text)
    publish(request, ticket, "entry")


async def note(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    await request.config_dict[TICKETS].note(mediator, ticket.id, _text(data, request, "note"))
    publish(request, ticket, "note")


async def close(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    try:
        outcome = Outcome(data.get("outcome", ""))
    except ValueError:
        raise BadInput("Choose an outcome to close the ticket.") from None
    if ticket.status is Status.CLOSED:
        raise Conflict("The ticket is closed already.")
    await request.config_dict[TICKETS].close(mediator, ticket.id, outcome)
    await back_to_assistant(request, ticket)
    publish(request, ticket, "status")


async def reassign(request: web.Request, mediator: Mediator, ticket: Ticket, data: Mapping[str, str]) -> None:
    if mediator.role is not Role.COORDINATOR:
        raise Forbidden("Only a coordinator reassigns tickets.")
    raw = data.get("mediator_id", "")
    target = await request.config_dict[MEDIATORS].get(int(raw)) if raw.isdigit() else None
    if target is None or not target.active:
        raise BadInput("Choose a mediator to give the ticket to.")
    await request.config_dict[TICKETS].reassign(mediator, ticket.id, target)
    publish(request, ticket, "status")


Action = Callable[[web.Request, Mediator, Ticket, Mapping[str, str]], Awaitable[None]]
ACTIONS: dict[str, Action] = {
    "claim": claim,
    "release": release,
    "reply": reply,
    "note": note,
    "close": close,
    "reassign": reassign,
}


async def _input(request: web.Request) -> dict[str, str]:
    """The fields of a form or of a JSON object (string values only)."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise BadInput("The body must be JSON.") from None
        if not isinstance(data, dict):
            raise BadInput("The body must be a JSON object.")
        return {k: v for k, v in data.items() if isinstance(v, str)}
    form: MultiDictProxy[Any] = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def action_handler(name: str, action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        mediator = request[MEDIATOR]
        ticket = await _ticket(request)
        await action(request, mediator, ticket, await _input(request))
        if is_api(request):
            updated = await request.config_dict[TICKETS].get_for(mediator, ticket.id)
            return web.json_response(
                {"done": name, "ticket": ticket_view(updated, request.app[CATALOG], utcnow())}
            )
        location = request.app.router["ticket"].url_for(ticket_id=ticket.id).with_query(done=name)
        return see_other(location)

    return handler


# live updates (server-sent events) -------------------------------------------------------------------
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
    ticket = await _ticket(request)  # 403 before any stream starts
    return await _stream(request, ticket.id)


async def on_closing(app: web.Application) -> None:
    app[CLOSING].set()


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Pages carry personal data: not cached, not framed, no script but ours."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    if not isinstance(request.match_info.route.resource, web.StaticResource):
        response.headers.setdefault("Cache-Control", "no-store")
    if is_https(request):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def add_routes(dashboard: web.Application) -> None:
    router = dashboard.router
    router.add_get("", queue_page, name="queue")
    router.add_get("/login", auth.login_page, name="login")
    router.add_post("/login", auth.login, name="login")
    router.add_post("/logout", auth.logout, name="logout")
    # no HEAD on the streams: a HEAD request would keep a stream running with nobody to write to
    router.add_get("/events", queue_events, name="events.queue", allow_head=False)
    router.add_get("/tickets/{ticket_id}", ticket_page, name="ticket")
    router.add_get("/tickets/{ticket_id}/events", ticket_events, name="events.ticket", allow_head=False)
    router.add_get("/api/queue", queue_api, name="api.queue")
    router.add_get("/api/tickets/{ticket_id}", ticket_api, name="api.ticket")
    for name, action in ACTIONS.items():
        router.add_post(f"/tickets/{{ticket_id}}/{name}", action_handler(name, action), name=f"ticket.{name}")
        router.add_post(
            f"/api/tickets/{{ticket_id}}/{name}", action_handler(name, action), name=f"api.{name}"
        )
