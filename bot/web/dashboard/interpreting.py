"""The ticket page's help for a language the mediator does not read: machine translation of the
conversation, a drafted reply, knowledge entries and ready replies in the person's language, each shown
beside the mediator's own language before it is sent. Handlers call ``Interpreting`` (bot.conversation).

Every handler fetches the ticket for the mediator first: another city's ticket is a 403 before any form
is read, as everywhere on the dashboard.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.conversation.interpreting import Interpreting, Preview, Reading
from bot.core.languages import direction
from bot.core.tickets import Mediator, Ticket
from bot.dialogue.replies import canned_choices, needs_date
from bot.web.dashboard import auth
from bot.web.dashboard.i18n import N_
from bot.web.dashboard.keys import MEDIATOR
from bot.web.dashboard.responses import is_api, translator
from bot.web.keys import INTERPRETING

DONE = {
    "knowledge": N_("Knowledge entry sent in the user's language."),
    "canned": N_("Ready reply sent in the user's language."),
    "translated": N_("Translated reply sent; your original is in the notes."),
}


def interpreting(request: web.Request) -> Interpreting:
    return request.config_dict[INTERPRETING]


def preview_view(preview: Preview) -> dict[str, Any]:
    return {
        "mine": preview.mine,
        "theirs": preview.theirs,
        "language": preview.language,
        "dir": direction(preview.language),
    }


async def page_context(request: web.Request, mediator: Mediator, ticket: Ticket) -> dict[str, Any]:
    """What the ticket page shows of this: translations beside the transcript, the lists to choose
    from, and a preview when the mediator asked for one (``?knowledge=<topic>``, ``?canned=<id>``)."""
    use = interpreting(request)
    reading: Reading = await use.reading(mediator, ticket)
    context: dict[str, Any] = {
        "machine_translation": use.machine_translation,
        "reading": reading.translations,
        "reading_unavailable": reading.unavailable,
        "canned_replies": [
            {"id": reply_id, "title": title, "needs_date": needs_date(use.desk, reply_id)}
            for reply_id, title in canned_choices(use.desk)
        ],
        "knowledge_preview": None,
        "canned_preview": None,
        "chosen_topic": request.query.get("knowledge", ""),
        "chosen_reply": request.query.get("canned", ""),
        "chosen_date": request.query.get("date", ""),
    }
    if context["chosen_topic"]:
        preview = await use.knowledge_preview(mediator, ticket.id, context["chosen_topic"])
        context["knowledge_preview"] = preview_view(preview)
    if context["chosen_reply"]:
        preview = await use.canned_preview(
            mediator, ticket.id, context["chosen_reply"], context["chosen_date"]
        )
        context["canned_preview"] = preview_view(preview)
    return context


async def _fields(request: web.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        data = await request.json()
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    form = await auth.read_form(request)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _done(request: web.Request, ticket_id: str, name: str) -> web.Response:
    if is_api(request):
        return web.json_response({"done": name})
    location = request.app.router["ticket"].url_for(ticket_id=ticket_id).with_query(done=name)
    return auth.see_other(location)


async def send_knowledge(request: web.Request) -> web.Response:
    mediator, ticket_id = request[MEDIATOR], request.match_info["ticket_id"]
    use = interpreting(request)
    await use.mediation.ticket(mediator, ticket_id)  # 403 before the body is read
    fields = await _fields(request)
    await use.send_knowledge(mediator, ticket_id, fields.get("topic", ""))
    return _done(request, ticket_id, "knowledge")


async def send_canned(request: web.Request) -> web.Response:
    mediator, ticket_id = request[MEDIATOR], request.match_info["ticket_id"]
    use = interpreting(request)
    await use.mediation.ticket(mediator, ticket_id)
    fields = await _fields(request)
    await use.send_canned(mediator, ticket_id, fields.get("reply", ""), fields.get("date", ""))
    return _done(request, ticket_id, "canned")


async def draft(request: web.Request) -> web.Response:
    """The mediator's words machine-translated: JSON for the page's script; nothing is sent."""
    mediator, ticket_id = request[MEDIATOR], request.match_info["ticket_id"]
    use = interpreting(request)
    ticket = await use.mediation.ticket(mediator, ticket_id)
    fields = await _fields(request)
    translated = await use.draft(mediator, ticket_id, fields.get("text", ""))
    label = translator(request)._("Machine translation: check it before you send it.")
    return web.json_response({"draft": translated, "language": ticket.language, "label": label})


async def send_translated(request: web.Request) -> web.Response:
    mediator, ticket_id = request[MEDIATOR], request.match_info["ticket_id"]
    use = interpreting(request)
    await use.mediation.ticket(mediator, ticket_id)
    fields = await _fields(request)
    await use.send_translated(mediator, ticket_id, fields.get("text", ""), fields.get("original", ""))
    return _done(request, ticket_id, "translated")


def add_routes(dashboard: web.Application) -> None:
    router = dashboard.router
    for name, handler in (
        ("knowledge", send_knowledge),
        ("canned", send_canned),
        ("translated", send_translated),
    ):
        router.add_post(f"/tickets/{{ticket_id}}/{name}", handler, name=f"ticket.{name}")
        router.add_post(f"/api/tickets/{{ticket_id}}/{name}", handler, name=f"api.{name}")
    router.add_post("/api/tickets/{ticket_id}/draft", draft, name="api.draft")
