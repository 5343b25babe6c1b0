"""The gateway's app factory: ``create_app(settings)``; resources live in cleanup contexts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.core.catalog import load_catalog
from bot.core.messages import OutboundChannel
from bot.adapters.telegram.channel import TelegramChannel
from bot.adapters.whatsapp import WhatsAppChannel
from bot.web.dashboard import add_dashboard
from bot.adapters.sql.database import create_engine, migrate
from bot.conversation.language import make_policy
from bot.web import webchat, webhooks
from bot.conversation.service import Conversations
from bot.adapters.rasa.engine import Engine, RasaEngine
from bot.web.errors import error_middleware
from bot.web.keys import (
    CONVERSATIONS,
    DATABASE,
    HTTP,
    MAILBOX,
    MEDIATORS,
    ROUTER,
    SENDER,
    SETTINGS,
    TELEGRAM,
    TICKET_EVENTS,
    TICKETS,
    TRANSLATIONS,
)
from bot.web.webhooks import accept_telegram_update
from bot.conversation.handoff import Handoff
from bot.core.i18n import Translations
from bot.knowledge import KnowledgeStore
from bot.adapters.sql.inbox import Mailbox
from bot.messaging.sender import Sender
from bot.adapters.sql.profiles import ProfileStore, SqlProfileStore
from bot.messaging.inbox_worker import Router
from bot.core.settings import Settings
from bot.adapters.events import TicketEvents
from bot.adapters.sql.mediators import MediatorStore
from bot.adapters.sql.tickets import TicketStore
from bot.adapters.rasa.tracker import RasaTracker

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


async def database_context(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS].gateway_database_url
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    app[DATABASE] = engine
    yield
    await engine.dispose()


async def http_context(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def conversations_context(app: web.Application) -> AsyncIterator[None]:
    """Stores, the handoff service and the conversation router's core."""
    settings = app[SETTINGS]
    engine: Engine = RasaEngine(app[HTTP], settings.engine_url, settings.rasa_timeout)
    profiles: ProfileStore = SqlProfileStore(app[DATABASE])
    catalog = load_catalog(settings.project_dir)
    app[MAILBOX] = Mailbox(app[DATABASE])
    app[TICKETS] = TicketStore(app[DATABASE])
    app[MEDIATORS] = MediatorStore(app[DATABASE])
    app[TICKET_EVENTS] = TicketEvents()
    staff = f"telegram:{settings.staff_telegram_chat_id}" if settings.staff_telegram_chat_id else ""
    handoff = Handoff(
        tickets=app[TICKETS],
        tracker=RasaTracker(settings.tracker_database),
        events=app[TICKET_EVENTS],
        mailbox=app[MAILBOX],
        profiles=profiles,
        translations=app[TRANSLATIONS],
        catalog=catalog,
        knowledge=KnowledgeStore(settings.project_dir / "knowledge"),
        staff_chat=staff,
        dashboard_url=settings.dashboard_url,
    )
    policy = make_policy(settings.default_language)
    app[CONVERSATIONS] = Conversations(engine, profiles, policy, catalog, handoff)
    yield


async def channels_context(app: web.Application) -> AsyncIterator[None]:
    """The inbox/outbox and every channel whose settings are present."""
    settings = app[SETTINGS]
    mailbox = app[MAILBOX]
    channels: dict[str, OutboundChannel] = {}
    if settings.telegram_enabled:
        telegram = TelegramChannel.create(
            settings.telegram_bot_token, settings.telegram_api_base_url, app[TRANSLATIONS]
        )
        await telegram.start(settings.telegram_webhook_url, settings.telegram_secret_token)
        app[TELEGRAM] = telegram
        channels[telegram.name] = telegram
    if settings.whatsapp_enabled:
        channels["whatsapp"] = WhatsAppChannel(
            app[HTTP],
            settings.whatsapp_api_base_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
            app[TRANSLATIONS],
            mailbox.last_inbound_at,
            settings.whatsapp_template_name,
            settings.whatsapp_template_language,
        )
    mode = "webhook" if settings.telegram_webhook_url else "polling"
    log.info(
        "channels on: webchat%s%s",
        f", telegram ({mode})" if settings.telegram_enabled else "",
        ", whatsapp" if settings.whatsapp_enabled else "",
    )
    sender = Sender(mailbox, channels)
    app[SENDER] = sender
    app[ROUTER] = Router(mailbox, app[CONVERSATIONS], app[TRANSLATIONS], sender.wake)
    yield
    if settings.telegram_enabled:
        await app[TELEGRAM].stop()


async def workers_context(app: web.Application) -> AsyncIterator[None]:
    """The router, the sender and (without a webhook URL) Telegram polling, as background tasks."""
    settings = app[SETTINGS]
    tasks = [asyncio.create_task(app[ROUTER].run()), asyncio.create_task(app[SENDER].run())]
    if settings.telegram_enabled and not settings.telegram_webhook_url:
        telegram = app[TELEGRAM]
        tasks.append(asyncio.create_task(telegram.poll(partial(accept_telegram_update, app, telegram))))
    yield
    for task in tasks:
        task.cancel()
    await app[ROUTER].stop()
    await app[SENDER].stop()
    await asyncio.gather(*tasks, return_exceptions=True)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: Settings) -> web.Application:
    translations = Translations(settings.project_dir / "locales")
    app = web.Application(middlewares=[error_middleware(translations, settings.default_language)])
    app[SETTINGS] = settings
    app[TRANSLATIONS] = translations
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    app.cleanup_ctx.extend(
        [database_context, http_context, conversations_context, channels_context, workers_context]
    )
    webchat.add_routes(app)
    telegram_webhook = settings.telegram_enabled and bool(settings.telegram_webhook_url)
    webhooks.add_routes(app, telegram_webhook, settings.whatsapp_enabled)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", HERE / "static")
    add_dashboard(app)
    return app
