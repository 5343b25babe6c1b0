"""Typed keys of what the gateway app holds."""

from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.gateway.conversation import Conversations
from bot.i18n import Translations
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
TRANSLATIONS = web.AppKey("translations", Translations)
HTTP = web.AppKey("http", ClientSession)
DATABASE = web.AppKey("database", AsyncEngine)
CONVERSATIONS = web.AppKey("conversations", Conversations)
