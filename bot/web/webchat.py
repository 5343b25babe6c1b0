"""The web chat channel: ``POST /api/chat`` (a stable JSON contract) and the chat page at ``/``.

Who is writing is decided by the server: a session token it issued (an HttpOnly cookie for the page, the
``X-Sportello-Session`` header for API clients), never an id the client picks. The user key is a hash of
the token, so neither the database nor the logs hold a token someone could replay.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.core.catalog import Catalog
from bot.core.commands import command_or_text, could_be_offered, plain_words
from bot.core.errors import InvalidMessage, TooManyRequests
from bot.core.languages import LANGUAGES, direction
from bot.core.messages import WEB_CHAT, ChatResult, InboundMessage, Reply, user_key
from bot.core.text import UnsafeJson, load_json
from bot.web.clients import client_address, is_https
from bot.web.keys import CATALOG, CHAT_LIMITS, CONVERSATION, LANGUAGE_NAMES, SETTINGS, TRANSLATIONS

CHANNEL = WEB_CHAT
MAX_USER_CHARS = 200
SESSION_COOKIE = "sportello_chat"
SESSION_HEADER = "X-Sportello-Session"
SESSION_DAYS = 30
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes


def session_token(request: web.Request) -> tuple[str, bool]:
    """The request's session token, or a new one (True) when it has none we could have issued."""
    given = request.headers.get(SESSION_HEADER) or request.cookies.get(SESSION_COOKIE, "")
    if _TOKEN.fullmatch(given):
        return given, False
    return secrets.token_urlsafe(32), True


def session_user(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def keep_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """The page keeps the token as an HttpOnly cookie; an API client reads it from the header."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/",
        max_age=SESSION_DAYS * 86400,
    )
    response.headers[SESSION_HEADER] = token


def parse_chat_request(
    body: bytes, max_text_chars: int, user: str, catalog: Catalog | None = None
) -> InboundMessage:
    """Validate the JSON body of ``POST /api/chat``; every problem is an ``InvalidMessage``."""
    try:
        data = load_json(body)
    except UnsafeJson as exc:
        raise InvalidMessage(str(exc)) from None
    if not isinstance(data, dict):
        raise InvalidMessage("the body must be a JSON object")
    label, text = data.get("user"), data.get("text")  # "user": a label of the client's, never an identity
    if label is not None and not isinstance(label, str):
        raise InvalidMessage("'user' must be a string (a label; the server decides who is writing)")
    if label is not None and len(label) > MAX_USER_CHARS:
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
    said = command_or_text(text, payloads_allowed=True)
    if catalog is not None and said.startswith("/") and not offered_by_us(said, catalog):
        said = plain_words(said)  # a payload no button of ours makes: read as the words it is
    return InboundMessage(CHANNEL, user, said, language=language, city=city)


def offered_by_us(text: str, catalog: Catalog) -> bool:
    values: dict[str, Collection[str]] = {
        "category": catalog.categories,
        "city": catalog.cities,
        "language": LANGUAGES,
    }
    return could_be_offered(text, catalog.topics, values)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons]}


def result_json(result: ChatResult) -> dict[str, Any]:
    return {
        "language": result.language,
        "direction": direction(result.language),
        "topic": result.topic,
        "replies": [reply_json(r) for r in result.replies],
        "relayed": result.relayed,
    }


async def chat(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    token, _ = session_token(request)
    body = await request.read()
    message = parse_chat_request(body, settings.max_text_chars, session_user(token), request.app[CATALOG])
    await within_limits(request, message)
    result = await request.app[CONVERSATION].handle(message)
    response = web.json_response(result_json(result))
    keep_session(request, response, token)
    return response


async def within_limits(request: web.Request, message: InboundMessage) -> None:
    """A session, and an address, write at most so many messages a minute: a script cannot keep Rasa
    busy for the people on Telegram and WhatsApp, or fill the queue with tickets."""
    limits = request.app[CHAT_LIMITS]
    waits = [await limits.session.allow(message.user), await limits.address.allow(client_address(request))]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        language = await request.app[CONVERSATION].language_for(message)
        raise TooManyRequests(max(refused), language)


async def index(request: web.Request) -> web.Response:
    """The chat page, with a session of its own from the first visit; a returning user's page opens in
    the language they chose or wrote in (``?lang=`` overrides it)."""
    token, new = session_token(request)
    known = (
        None if new else await request.app[CONVERSATION].profiles.get(user_key(CHANNEL, session_user(token)))
    )
    response = aiohttp_jinja2.render_template(
        "index.html", request, page_context(request, known.language if known else None)
    )
    if new:
        keep_session(request, response, token)
    return response


def page_context(request: web.Request, remembered: str | None = None) -> dict[str, Any]:
    language = request.query.get("lang") or remembered or request.app[SETTINGS].default_language
    if language not in LANGUAGES:
        language = request.app[SETTINGS].default_language
    translations = request.app[TRANSLATIONS]
    return {
        "language": language,
        "direction": direction(language),
        "languages": request.app[LANGUAGE_NAMES].names,
        "t": translations(language)._,
        "frames": {code: translations(code)._ for code in LANGUAGES},  # the page switches in place
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", chat)
