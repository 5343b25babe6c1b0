"""The gateway's app factory: ``create_app(settings)``; resources live in cleanup contexts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.catalog import load_catalog
from bot.db import create_engine, migrate
from bot.detection import make_policy
from bot.gateway import webchat
from bot.gateway.conversation import Conversations
from bot.gateway.engine import Engine, RasaEngine
from bot.gateway.errors import error_middleware
from bot.gateway.keys import CONVERSATIONS, DATABASE, HTTP, SETTINGS, TRANSLATIONS
from bot.i18n import Translations
from bot.profiles import ProfileStore, SqlProfileStore
from bot.settings import Settings

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
    settings = app[SETTINGS]
    engine: Engine = RasaEngine(app[HTTP], settings.engine_url, settings.rasa_timeout)
    profiles: ProfileStore = SqlProfileStore(app[DATABASE])
    policy = make_policy(settings.default_language)
    app[CONVERSATIONS] = Conversations(engine, profiles, policy, load_catalog(settings.project_dir))
    yield


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: Settings) -> web.Application:
    translations = Translations(settings.project_dir / "locales")
    app = web.Application(middlewares=[error_middleware(translations)])
    app[SETTINGS] = settings
    app[TRANSLATIONS] = translations
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    app.cleanup_ctx.extend([database_context, http_context, conversations_context])
    webchat.add_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", HERE / "static")
    return app
