"""Domain errors become JSON answers here, at the edge, and nowhere else."""

from __future__ import annotations

import logging
import math

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.core.errors import EngineError, EngineUnavailable, InvalidMessage, TooManyRequests
from bot.core.i18n import Translations

log = logging.getLogger(__name__)


def engine_unavailable_message(translations: Translations, language: str) -> str:
    tr = translations(language)
    return tr._("Sorry, the assistant is not available right now. Please try again in a few minutes.")


def error_middleware(translations: Translations, default_language: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidMessage as exc:
            return web.json_response({"error": "invalid_request", "detail": str(exc)}, status=400)
        except EngineError as exc:
            outage = isinstance(exc, EngineUnavailable)
            log.warning("engine %s: %s", "unavailable" if outage else "failed", exc)
            language = exc.language or default_language
            body = {
                "error": "engine_unavailable" if outage else "engine_failed",
                "language": language,
                "detail": engine_unavailable_message(translations, language),
            }
            return web.json_response(body, status=503 if outage else 502)
        except TooManyRequests as exc:
            tr = translations(exc.language)
            body = {
                "error": "too_many_requests",
                "language": exc.language,
                "detail": tr._("You are writing very fast. Please wait a moment and try again."),
            }
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
            return web.json_response(body, status=429, headers=headers)

    return middleware
