"""Answers of the dashboard: pages (Jinja templates) for browsers, JSON for the API and live streams."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.core.clock import utcnow
from bot.web.dashboard.keys import CSRF_TOKEN, MEDIATOR, TEMPLATES
from bot.web.dashboard.views import TicketViews
from bot.web.keys import CATALOG, LANGUAGE_NAMES

API_PREFIXES = ("api.", "events.")  # resource names of routes that answer JSON (or an event stream)
REASONS = {400: "Bad request", 401: "Not logged in", 403: "Forbidden", 404: "Not found", 409: "Not possible"}


def route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return (resource.name if resource else None) or ""


def is_api(request: web.Request) -> bool:
    return route_name(request).startswith(API_PREFIXES)


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """A page, with who is logged in and their CSRF token for the page's forms."""
    mediator = request.get(MEDIATOR)
    views = TicketViews(request.config_dict[CATALOG], request.config_dict[LANGUAGE_NAMES], utcnow())
    full = {
        "me": views.mediator(mediator) if mediator else None,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        **context,
    }
    response: web.Response = aiohttp_jinja2.render_template(
        template, request, full, app_key=TEMPLATES, status=status
    )
    return response


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    """JSON ``{"error", "detail"}`` for the API, an error page otherwise."""
    reason = REASONS.get(status, "Error")
    if is_api(request):
        error = reason.lower().replace(" ", "_")
        return web.json_response({"error": error, "detail": message}, status=status)
    back = request.match_info.get("ticket_id")
    return render(
        request,
        "error.html",
        {"status": status, "reason": reason, "message": message, "ticket_id": back},
        status=status,
    )
