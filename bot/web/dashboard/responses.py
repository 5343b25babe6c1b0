"""Answers of the dashboard: pages (Jinja templates) for browsers, JSON for the API and live streams."""

from __future__ import annotations

import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.core.clock import utcnow
from bot.core.i18n import Translator
from bot.web.dashboard.i18n import LANGUAGE_LABELS, LANGUAGES, N_, QUERY, chosen, template_gettext
from bot.web.dashboard.keys import CSRF_TOKEN, MEDIATOR, STRINGS, TEMPLATES
from bot.web.dashboard.views import TicketViews
from bot.web.keys import CATALOG, KNOWLEDGE, LANGUAGE_NAMES

API_PREFIXES = ("api.", "events.")  # resource names of routes that answer JSON (or an event stream)
REASONS = {
    400: N_("Bad request"),
    401: N_("Not logged in"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    409: N_("Not possible"),
}
# What the mediation use cases say when they refuse (``str`` of the domain error, English): the page shows
# it in the mediator's language. ``{name}`` parts are read back from the English text.
DOMAIN_MESSAGES = (
    N_("Write the reply first."),
    N_("Write the note first."),
    N_("The reply is longer than {limit} characters."),
    N_("The note is longer than {limit} characters."),
    N_("Choose an outcome to close the ticket."),
    N_("Choose a mediator to give the ticket to."),
    N_("Choose a topic from the list."),
    N_("Urgent is yes or no."),
    N_("Only a coordinator reassigns tickets."),
    N_("Only {holder} or a coordinator can release this ticket."),
    N_("Only {holder} or a coordinator can close this ticket."),
    N_("the mediator who holds it"),
    N_("nobody holds this ticket: there is nothing to release"),
    N_("the ticket is closed already"),
    N_("the ticket is closed"),
    N_("The body must be JSON."),
    N_("The body must be a JSON object."),
    # bot.conversation.interpreting and bot.dialogue.replies
    N_("Choose a reply from the list."),
    N_("This reply needs a date: choose one."),
    N_("The date must be a day, like 2026-12-31."),
    N_("This topic has no knowledge entry yet."),
    N_("Machine translation is not configured for this desk."),
    N_("The translation service is not answering: try again, or write the reply."),
    N_("The original of the translated reply is missing."),
    # bot.conversation.review and the overview's forms
    N_("Choose what these messages are."),
    N_("Choose the topic these messages are examples of."),
    N_("Choose at least one message."),
    N_("Dates are written as YYYY-MM-DD."),
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template)))


_TEMPLATES = tuple((t, _pattern(t)) for t in DOMAIN_MESSAGES if "{" in t)


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


def localized(tr: Translator, text: str) -> str:
    """An English message in the mediator's language: a msgid as it is, or one of ``DOMAIN_MESSAGES``
    with its values filled in; any other text unchanged."""
    if text in tr.strings:
        return tr._(text)
    for template, pattern in _TEMPLATES:
        found = pattern.fullmatch(text)
        if found:
            return tr._(template, **{k: localized(tr, v) for k, v in found.groupdict().items()})
    return text


def ticket_views(request: web.Request) -> TicketViews:
    """Tickets as the mediator reads them: labels in their language, topics by their titles in it."""
    language = request_language(request)
    knowledge = request.config_dict.get(KNOWLEDGE)
    text = knowledge.current().texts.get(language) if knowledge is not None else None
    titles = {topic: t.title for topic, t in text.topics.items()} if text else {}
    config = request.config_dict
    return TicketViews(config[CATALOG], config[LANGUAGE_NAMES], utcnow(), translator(request), titles)


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """A page, with who is logged in, their CSRF token for the page's forms, and ``_`` in their language."""
    mediator = request.get(MEDIATOR)
    views = ticket_views(request)
    language = request_language(request)
    strings = request.config_dict[STRINGS]
    full = {
        "me": views.mediator(mediator) if mediator else None,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "_": template_gettext(strings(language)),
        "ui_language": language,
        "here": request.path_qs if request.method == "GET" else "/dashboard",  # back after a language change
        "ui_languages": [(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        "script_strings": strings.script_strings(language),
        **context,
    }
    response: web.Response = aiohttp_jinja2.render_template(
        template, request, full, app_key=TEMPLATES, status=status
    )
    return response


def error_response(request: web.Request, status: int, message: str, **values: str) -> web.Response:
    """JSON ``{"error", "detail"}`` for the API (English: clients read it), an error page otherwise, in
    the mediator's language (``message`` an English msgid, with ``{values}``)."""
    reason = REASONS.get(status, N_("Error"))
    if is_api(request):
        error = reason.lower().replace(" ", "_")
        detail = message.format(**values) if values else message
        return web.json_response({"error": error, "detail": detail}, status=status)
    tr = translator(request)
    reason = tr._(reason)
    if values:
        message = tr._(message, **{k: localized(tr, v) for k, v in values.items()})
    else:
        message = localized(tr, message)
    back = request.match_info.get("ticket_id")
    return render(
        request,
        "error.html",
        {"status": status, "reason": reason, "message": message, "ticket_id": back},
        status=status,
    )
