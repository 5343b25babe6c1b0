"""Typed keys of what the dashboard's sub-application and its requests hold."""

from __future__ import annotations

import asyncio

import jinja2
from aiohttp import web

from bot.core.tickets import Mediator
from bot.web.dashboard.i18n import DashboardTranslations
from bot.web.dashboard.throttle import LoginThrottle

# on the dashboard sub-application
TEMPLATES = web.AppKey("dashboard_templates", jinja2.Environment)
KEEPALIVE = web.AppKey("dashboard_keepalive", float)  # seconds between SSE keep-alive comments
CLOSING = web.AppKey("dashboard_closing", asyncio.Event)  # set on shutdown: live streams end
THROTTLE = web.AppKey("dashboard_login_throttle", LoginThrottle)
STRINGS = web.AppKey("dashboard_strings", DashboardTranslations)  # the dashboard's own catalogs

# on the gateway app: the dashboard sub-application, once added
DASHBOARD = web.AppKey("dashboard", web.Application)

# on a request, once its session is checked (see bot.web.dashboard.auth)
MEDIATOR = web.RequestKey("dashboard_mediator", Mediator)
CSRF_TOKEN = web.RequestKey("dashboard_csrf_token", str)
SESSION_ID = web.RequestKey("dashboard_session_id", str)
