"""Typed keys of what the gateway app holds."""

from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram import TelegramChannel
from bot.gateway.conversation import Conversations
from bot.i18n import Translations
from bot.mailbox import Mailbox
from bot.outbox import Sender
from bot.router import Router
from bot.settings import Settings
from bot.tickets.events import TicketEvents
from bot.tickets.mediators import MediatorStore
from bot.tickets.store import TicketStore

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
