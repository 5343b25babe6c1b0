"""Typed keys of what the gateway app holds."""

from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.channel import TelegramChannel
from bot.conversation.service import Conversations
from bot.core.i18n import Translations
from bot.adapters.sql.inbox import Mailbox
from bot.messaging.sender import Sender
from bot.messaging.inbox_worker import Router
from bot.core.settings import Settings
from bot.adapters.events import TicketEvents
from bot.adapters.sql.mediators import MediatorStore
from bot.adapters.sql.tickets import TicketStore

SETTINGS = web.AppKey("settings", Settings)
TRANSLATIONS = web.AppKey("translations", Translations)
HTTP = web.AppKey("http", ClientSession)
DATABASE = web.AppKey("database", AsyncEngine)
CONVERSATIONS = web.AppKey("conversations", Conversations)
MAILBOX = web.AppKey("mailbox", Mailbox)
ROUTER = web.AppKey("router", Router)
SENDER = web.AppKey("sender", Sender)
TELEGRAM = web.AppKey("telegram", TelegramChannel)
TICKETS = web.AppKey("tickets", TicketStore)
MEDIATORS = web.AppKey("mediators", MediatorStore)
TICKET_EVENTS = web.AppKey("ticket_events", TicketEvents)
