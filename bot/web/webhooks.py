"""Telegram and WhatsApp webhooks: check the secret/signature, store the update, answer 200 at once.

Nothing waits for Rasa here: the inbox worker answers from the inbox, so an acknowledged update is never
lost.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.adapters.telegram import TelegramChannel
from bot.adapters.whatsapp import parse_notification, signature_ok, verify_subscription
from bot.core.messages import InboundMessage, Reply
from bot.core.text import UnsafeJson, load_json
from bot.web.keys import (
    CHAT_LIMITS,
    CONVERSATION,
    INTAKE,
    OUTBOX,
    SETTINGS,
    TELEGRAM,
    TRANSLATIONS,
    WAKES,
)

log = logging.getLogger(__name__)
_background: set[asyncio.Task[None]] = set()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a header with our secret; any header, even non-ASCII, is a str here."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


async def store(app: web.Application, message: InboundMessage) -> bool:
    if not await within_limits(app, message):
        return False
    new = await app[INTAKE].receive(message)
    if new:
        app[WAKES].inbox()
    return new


async def within_limits(app: web.Application, message: InboundMessage) -> bool:
    """A user writes at most so many messages a minute on Telegram and WhatsApp: beyond, the message is
    not stored (a flood never keeps Rasa from everyone else), the webhook still answers 200 (the platform
    must not retry it), and the user is told once a minute at most, in their language, why."""
    limits = app[CHAT_LIMITS]
    if await limits.user.allow(message.user_key) is None:
        return True
    log.info("%s: a message over the user's limit, not stored", message.channel)
    if await limits.notice.allow(message.user_key) is None:
        language = await app[CONVERSATION].language_for(message)
        notice = app[TRANSLATIONS](language)._(
            "You are sending many messages. Wait a minute, then write again: I will answer you."
        )
        await app[OUTBOX].queue(message.channel, message.user_key, language, [Reply(notice)])
        app[WAKES].sender()
    return False


def parse_body(body: bytes) -> Any:
    """JSON within our depth limit, or 400: a hostile body never becomes a 500."""
    try:
        return load_json(body)
    except UnsafeJson as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


async def accept_telegram_update(app: web.Application, channel: TelegramChannel, data: Any) -> None:
    """Store one update (webhook or polling); answer a button press's callback query at once."""
    if not isinstance(data, dict):
        return
    message, callback_id = channel.parse(data)
    if callback_id:
        task = asyncio.create_task(channel.answer_callback(callback_id))
        _background.add(task)
        task.add_done_callback(_background.discard)
    if message is not None:
        await store(app, message)


async def telegram_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not settings.telegram_secret_token or not same_secret(secret, settings.telegram_secret_token):
        raise web.HTTPForbidden(text="wrong secret token")
    await accept_telegram_update(request.app, request.app[TELEGRAM], parse_body(await request.read()))
    return web.Response(text="ok")


async def whatsapp_verify(request: web.Request) -> web.Response:
    challenge = verify_subscription(request.query, request.app[SETTINGS].whatsapp_verify_token)
    if challenge is None:
        raise web.HTTPForbidden(text="verification failed")
    return web.Response(text=challenge)


async def whatsapp_webhook(request: web.Request) -> web.Response:
    body = await request.read()
    header = request.headers.get("X-Hub-Signature-256")
    if not signature_ok(body, header, request.app[SETTINGS].whatsapp_app_secret):
        raise web.HTTPUnauthorized(text="bad signature")
    payload = parse_body(body)
    messages, statuses = parse_notification(payload if isinstance(payload, dict) else {})
    for message in messages:
        await store(request.app, message)
    outbox = request.app[OUTBOX]
    for status in statuses:
        await outbox.delivery(status.message_id, status.status, status.error)
        if status.status == "failed" and status.error_code == 131047:
            await outbox.reopen(status.message_id)
            request.app[WAKES].sender()
    return web.Response(text="ok")


def add_routes(app: web.Application, telegram: bool, whatsapp: bool) -> None:
    if telegram:
        app.router.add_post("/webhooks/telegram", telegram_webhook)
    if whatsapp:
        app.router.add_get("/webhooks/whatsapp", whatsapp_verify)
        app.router.add_post("/webhooks/whatsapp", whatsapp_webhook)
