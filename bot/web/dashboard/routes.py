"""The dashboard's pages and JSON API (mounted under /dashboard): parse the request, call a
``Mediation`` use case, render the answer.

Access rule, everywhere: the ticket store answers ``TicketNotFound`` both for a ticket that does not exist
and for one of a city the mediator does not work for (on purpose: the answer must not tell them apart).
The dashboard maps it to **403** in both cases, for pages, the API and the event stream alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy

from bot.conversation.mediation import Mediation
from bot.core.errors import CityNotAllowed, InvalidInput, NotAllowed, RoleRequired, TicketNotFound
from bot.core.languages import LANGUAGES
from bot.core.tickets import Mediator, QueueFilter, Role, Status
from bot.web.clients import client_address
from bot.web.dashboard import auth, interpreting, streams
from bot.web.dashboard.attachments import file_views
from bot.web.dashboard.i18n import N_
from bot.web.dashboard.keys import MEDIATOR
from bot.web.dashboard.responses import error_response, is_api, render, ticket_views, translator
from bot.web.dashboard.views import TicketViews
from bot.web.keys import CATALOG, MEDIATION, SETTINGS

SCOPES = {"all": N_("All tickets"), "unassigned": N_("Unassigned"), "mine": N_("Mine")}
DONE = {
    "claim": N_("You claimed this ticket."),
    "release": N_("Ticket released: the user is talking with the assistant again."),
    "reply": N_("Reply sent."),
    "note": N_("Note saved."),
    "close": N_("Ticket closed: the user is talking with the assistant again."),
    "reassign": N_("Ticket reassigned."),
    "classify": N_("Topic and urgency saved."),
    **interpreting.DONE,
}
FORBIDDEN_TICKET = N_("No such ticket, or not a ticket of your cities.")
FORBIDDEN_CITY = N_("Not a city of yours.")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors of the mediation use cases, as the mediator's answer."""
    try:
        return await handler(request)
    except TicketNotFound:
        await refused(request, "ticket")
        return error_response(request, 403, FORBIDDEN_TICKET)
    except CityNotAllowed:
        await refused(request, "city")
        return error_response(request, 403, FORBIDDEN_CITY)
    except RoleRequired as exc:
        await refused(request, "role")
        return error_response(request, 403, str(exc))
    except NotAllowed as exc:
        return error_response(request, 409, N_("Not possible: {reason}."), reason=str(exc))
    except InvalidInput as exc:
        return error_response(request, 400, str(exc))


async def refused(request: web.Request, what: str) -> None:
    """Every 403 is in the audit log: who, which ticket, from where."""
    ticket_id = request.match_info.get("ticket_id")
    await mediation(request).refused(request.get(MEDIATOR), what, ticket_id, client_address(request))


def views(request: web.Request) -> TicketViews:
    """Tickets in the mediator's language (``responses.ticket_views``)."""
    return ticket_views(request)


def mediation(request: web.Request) -> Mediation:
    return request.config_dict[MEDIATION]


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
    wanted = parse_filter(request.query, request.config_dict[CATALOG].topics)
    tickets = await mediation(request).queue(request[MEDIATOR], wanted)
    shown = views(request)
    return wanted, [shown.summary(t) for t in tickets]


async def queue_page(request: web.Request) -> web.Response:
    wanted, rows = await _queue(request)
    shown = views(request)
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "wanted": wanted,
            "scopes": {scope: translator(request)._(label) for scope, label in SCOPES.items()},
            "languages": shown.language_options(),
            "topics": shown.topic_options(),
            "statuses": shown.status_options(),
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
async def ticket_page(request: web.Request) -> web.Response:
    mediator = request[MEDIATOR]
    ticket = await mediation(request).view(mediator, request.match_info["ticket_id"])
    shown = views(request)
    colleagues = [shown.mediator(m) for m in await mediation(request).colleagues(mediator, ticket)]
    is_open = ticket.status is not Status.CLOSED
    return render(
        request,
        "ticket.html",
        {
            "ticket": shown.ticket(ticket),
            "attachments": await file_views(request, mediator, ticket),
            "done": done_message(request),
            "can_claim": is_open and ticket.assignee_id != mediator.id,
            "can_release": ticket.held,
            "can_reply": is_open,
            "can_close": is_open,
            "can_reassign": is_open and mediator.role is Role.COORDINATOR,
            "can_classify": is_open,
            "topics": shown.topic_options(),
            "colleagues": colleagues,
            "outcomes": shown.outcome_options(),
            "max_text": request.config_dict[SETTINGS].max_text_chars,
            **await interpreting.page_context(request, mediator, ticket),
        },
    )


def done_message(request: web.Request) -> str | None:
    """What the page says after an action (``?done=reply``), in the mediator's language."""
    done = request.query.get("done", "")
    return translator(request)._(DONE[done]) if done in DONE else None


async def ticket_api(request: web.Request) -> web.Response:
    mediator = request[MEDIATOR]
    ticket = await mediation(request).view(mediator, request.match_info["ticket_id"], "api")
    files = await file_views(request, mediator, ticket)
    return web.json_response({**views(request).ticket(ticket), "attachments": files})


# what a mediator does --------------------------------------------------------------------------------
Action = Callable[[Mediation, Mediator, str, Mapping[str, str]], Awaitable[None]]
ACTIONS: dict[str, Action] = {
    "claim": lambda use, who, ticket, data: use.claim(who, ticket),
    "release": lambda use, who, ticket, data: use.release(who, ticket),
    "reply": lambda use, who, ticket, data: use.reply(who, ticket, data.get("text", "")),
    "note": lambda use, who, ticket, data: use.note(who, ticket, data.get("text", "")),
    "close": lambda use, who, ticket, data: use.close(who, ticket, data.get("outcome", "")),
    "reassign": lambda use, who, ticket, data: use.reassign(who, ticket, data.get("mediator_id", "")),
    "classify": lambda use, who, ticket, data: use.classify(
        who, ticket, data.get("topic", ""), data.get("urgent", "no")
    ),
}


async def _input(request: web.Request) -> dict[str, str]:
    """The fields of a form or of a JSON object (string values only)."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise InvalidInput("The body must be JSON.") from None
        if not isinstance(data, dict):
            raise InvalidInput("The body must be a JSON object.")
        return {k: v for k, v in data.items() if isinstance(v, str)}
    form: MultiDictProxy[Any] = await auth.read_form(request)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def action_handler(name: str, action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        mediator, ticket_id = request[MEDIATOR], request.match_info["ticket_id"]
        use = mediation(request)
        await use.ticket(mediator, ticket_id)  # 403 before the body is even read
        await action(use, mediator, ticket_id, await _input(request))
        if is_api(request):
            updated = await use.ticket(mediator, ticket_id)
            return web.json_response({"done": name, "ticket": views(request).ticket(updated)})
        location = request.app.router["ticket"].url_for(ticket_id=ticket_id).with_query(done=name)
        return auth.see_other(location)

    return handler


def add_routes(dashboard: web.Application) -> None:
    router = dashboard.router
    router.add_get("", queue_page, name="queue")
    router.add_get("/login", auth.login_page, name="login")
    router.add_post("/login", auth.login, name="login")
    router.add_post("/logout", auth.logout, name="logout")
    router.add_post("/language", auth.choose_language, name="language")
    # no HEAD on the streams: a HEAD request would keep a stream running with nobody to write to
    router.add_get("/events", streams.queue_events, name="events.queue", allow_head=False)
    router.add_get("/tickets/{ticket_id}", ticket_page, name="ticket")
    router.add_get(
        "/tickets/{ticket_id}/events", streams.ticket_events, name="events.ticket", allow_head=False
    )
    router.add_get("/api/queue", queue_api, name="api.queue")
    router.add_get("/api/tickets/{ticket_id}", ticket_api, name="api.ticket")
    for name, action in ACTIONS.items():
        router.add_post(f"/tickets/{{ticket_id}}/{name}", action_handler(name, action), name=f"ticket.{name}")
        router.add_post(
            f"/api/tickets/{{ticket_id}}/{name}", action_handler(name, action), name=f"api.{name}"
        )
