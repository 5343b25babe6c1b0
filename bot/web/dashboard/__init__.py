"""The mediators' dashboard, served by the gateway under ``/dashboard``.

``add_dashboard(app)`` mounts it as a sub-application of the gateway app, with its own middlewares
(login and CSRF checks on every route but the login page and the static files; domain errors to 403/409/
400), its own templates and static files. Its handlers call the ``Mediation`` use case (MEDIATION) and
read MEDIATORS (sessions), TICKET_EVENTS (live pages), CATALOG, LANGUAGE_NAMES and SETTINGS of the app.

Routes (``{id}`` is a ticket id such as ``CE-2026-0042``):

- ``GET/POST /dashboard/login`` (``?lang=it|en`` before login), ``POST /dashboard/logout``
- ``POST /dashboard/language``: the mediator's dashboard language (``language`` it or en, ``next``)
- ``GET /dashboard``: the queue (``?scope=all|unassigned|mine&language=&topic=&status=``)
- ``GET /dashboard/tickets/{id}``: a ticket; ``POST /dashboard/tickets/{id}/<action>`` (forms), with
  action one of claim, release, reply, note, close, reassign
- ``GET /dashboard/api/queue``, ``GET /dashboard/api/tickets/{id}``, ``POST /dashboard/api/tickets/{id}/
  <action>``: the same as JSON (CSRF token in the ``X-CSRF-Token`` header)
- ``GET /dashboard/events``, ``GET /dashboard/tickets/{id}/events``: server-sent events
- ``GET /dashboard/stats`` (``?city=&from=&until=``), ``GET /dashboard/stats.csv``: statistics of the
  mediator's cities (``overview``); ``GET /dashboard/search``: their tickets, closed ones included
- ``GET /dashboard/review``, ``POST /dashboard/review/mark``: what the desk misses (``review``)
- ``GET /dashboard/tickets/{id}/attachments/{n}``: a file the user sent (``attachments``; 403 without a
  session too)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.web.dashboard import attachments, interpreting, overview, review
from bot.web.dashboard.auth import auth_middleware
from bot.web.dashboard.headers import security_headers
from bot.web.dashboard.i18n import DashboardTranslations
from bot.web.dashboard.keys import CLOSING, DASHBOARD, KEEPALIVE, STRINGS, TEMPLATES, THROTTLE
from bot.web.dashboard.routes import add_routes, errors_middleware
from bot.web.dashboard.streams import on_closing
from bot.web.dashboard.throttle import LoginThrottle
from bot.web.keys import SETTINGS

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
KEEPALIVE_SECONDS = 15.0

__all__ = ["PREFIX", "add_dashboard"]


def add_dashboard(app: web.Application, *, keepalive: float = KEEPALIVE_SECONDS) -> None:
    """Mount the dashboard on the gateway app (before it starts)."""
    dashboard = web.Application(middlewares=[auth_middleware, errors_middleware])
    locales_dir = app[SETTINGS].locales_dir
    dashboard[STRINGS] = DashboardTranslations(locales_dir, (HERE / "static").glob("*.js"))
    aiohttp_jinja2.setup(
        dashboard,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        app_key=TEMPLATES,
    )
    dashboard[KEEPALIVE] = keepalive
    dashboard[THROTTLE] = LoginThrottle()
    dashboard[CLOSING] = asyncio.Event()  # binds to the running loop on first use (Python 3.10)
    dashboard.on_shutdown.append(on_closing)
    dashboard.on_response_prepare.append(security_headers)
    add_routes(dashboard)
    overview.add_routes(dashboard)
    review.add_routes(dashboard)
    attachments.add_routes(dashboard)
    interpreting.add_routes(dashboard)
    dashboard.router.add_static("/static", HERE / "static", name="static", append_version=True)
    app.add_subapp(PREFIX, dashboard)
    app[DASHBOARD] = dashboard
