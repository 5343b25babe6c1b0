"""Answers of the dashboard: pages (Jinja templates) for browsers, JSON for the API and live streams."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.core.clock import utcnow
from bot.core.i18n import Translator
from bot.web.dashboard.i18n import LANGUAGE_LABELS, LANGUAGES, N_, QUERY, chosen, template_gettext
from bot.web.dashboard.keys import CSRF_TOKEN, MEDIATOR, STRINGS, TEMPLATES
from bot.web.dashboard.views import TicketViews
from bot.web.keys import CATALOG, LANGUAGE_NAMES

API_PREFIXES = ("api.", "events.")  # resource names of routes that answer JSON (or an event stream)
REASONS = {
    400: N_("Bad request"),
    401: N_("Not logged in"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    409: N_("Not possible"),
}


def route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return (resource.name if resource else None) or ""


def is_api(request: web.Request) -> bool:
    return route_name(request).startswith(API_PREFIXES)


def request_language(request: web.Request) -> str:
    """The logged-in mediator's choice; before login, ``?lang=``; Italian otherwise."""
    mediator = request.get(MEDIATOR)
    if mediator is not None:
        return chosen(mediator.language)
    return chosen(request.query.get(QUERY))


def translator(request: web.Request) -> Translator:
    """The dashboard's strings in the language of this request (see ``bot.web.dashboard.i18n``)."""
    return request.config_dict[STRINGS](request_language(request))


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """A page, with who is logged in, their CSRF token for the page's forms, and ``_`` in their language."""
    mediator = request.get(MEDIATOR)
    views = TicketViews(request.config_dict[CATALOG], request.config_dict[LANGUAGE_NAMES], utcnow())
    language = request_language(request)
    strings = request.config_dict[STRINGS]
    full = {
        "me": views.mediator(mediator) if mediator else None,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "_": template_gettext(strings(language)),
        "ui_language": language,
        "ui_languages": [(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        "script_strings": strings.script_strings(language),
        **context,
    }
    response: web.Response = aiohttp_jinja2.render_template(
        template, request, full, app_key=TEMPLATES, status=status
    )
    return response


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    """JSON ``{"error", "detail"}`` for the API, an error page otherwise."""
    reason = REASONS.get(status, N_("Error"))
    if is_api(request):  # the API's error code stays English: clients read it
        error = reason.lower().replace(" ", "_")
        return web.json_response({"error": error, "detail": message}, status=status)
    reason = translator(request)._(reason)
    back = request.match_info.get("ticket_id")
    return render(
        request,
        "error.html",
        {"status": status, "reason": reason, "message": message, "ticket_id": back},
        status=status,
    )
