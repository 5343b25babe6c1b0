"""The web chat channel: ``POST /api/chat`` (a stable JSON contract) and the chat page at ``/``."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.core.commands import command_or_text
from bot.core.errors import InvalidMessage
from bot.core.languages import LANGUAGES, direction
from bot.core.messages import WEB_CHAT, ChatResult, InboundMessage, Reply
from bot.core.text import UnsafeJson, load_json
from bot.web.keys import CONVERSATION, LANGUAGE_NAMES, SETTINGS, TRANSLATIONS

CHANNEL = WEB_CHAT
MAX_USER_CHARS = 200


def parse_chat_request(body: bytes, max_text_chars: int) -> InboundMessage:
    """Validate the JSON body of ``POST /api/chat``; every problem is an ``InvalidMessage``."""
    try:
        data = load_json(body)
    except UnsafeJson as exc:
        raise InvalidMessage(str(exc)) from None
    if not isinstance(data, dict):
        raise InvalidMessage("the body must be a JSON object")
    user, text = data.get("user"), data.get("text")
    if not isinstance(user, str) or not user.strip():
        raise InvalidMessage("'user' is required: a non-empty string")
    if len(user) > MAX_USER_CHARS:
        raise InvalidMessage(f"'user' is longer than {MAX_USER_CHARS} characters")
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("'text' is required: a non-empty string")
    if len(text) > max_text_chars:
        raise InvalidMessage(f"'text' is longer than {max_text_chars} characters")
    language, city = data.get("language"), data.get("city")
    for name, value in (("language", language), ("city", city)):
        if value is not None and not isinstance(value, str):
            raise InvalidMessage(f"'{name}' must be a string")
    if language is not None and language not in LANGUAGES:
        raise InvalidMessage(f"'language' must be one of {', '.join(LANGUAGES)}")
    return InboundMessage(
        CHANNEL, user.strip(), command_or_text(text, payloads_allowed=True), language=language, city=city
    )


def reply_json(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons]}


def result_json(result: ChatResult) -> dict[str, Any]:
    return {
        "language": result.language,
        "direction": direction(result.language),
        "topic": result.topic,
        "replies": [reply_json(r) for r in result.replies],
    }


async def chat(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    message = parse_chat_request(await request.read(), settings.max_text_chars)
    result = await request.app[CONVERSATION].handle(message)
    return web.json_response(result_json(result))


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict[str, Any]:
    language = request.query.get("lang", request.app[SETTINGS].default_language)
    if language not in LANGUAGES:
        language = request.app[SETTINGS].default_language
    tr = request.app[TRANSLATIONS](language)
    return {
        "language": language,
        "direction": direction(language),
        "languages": request.app[LANGUAGE_NAMES].names,
        "t": tr._,
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", chat)
