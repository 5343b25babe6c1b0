"""``python -m bot serve``: run the gateway alone (``make run`` starts Rasa and the actions too)."""

from __future__ import annotations

import logging

import uvloop
from aiohttp import web

from bot.core.heap import freeze_long_lived
from bot.core.settings import Settings
from bot.web.app import create_app


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # access lines carry user ids
    # python-telegram-bot's HTTP client logs every request URL, and Telegram's URLs carry the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)  # after every cleanup context has built its part
    # uvloop: the same asyncio, less CPU per request on the loop that acknowledges the webhooks
    loop = uvloop.new_event_loop()
    web.run_app(app, host=settings.host, port=settings.port, print=None, loop=loop)
    return 0


async def freeze_startup_heap(app: web.Application) -> None:
    """What the app built at start-up lives as long as the process (``bot/core/heap.py``)."""
    freeze_long_lived()
