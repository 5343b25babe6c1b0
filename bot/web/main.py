"""``python -m bot serve``: run the gateway alone (``make run`` starts Rasa and the actions too)."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.core.errors import ConfigurationError
from bot.web.app import create_app
from bot.core.settings import load_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # access lines carry user ids
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"sportello: {exc}", file=sys.stderr)
        return 2
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0
