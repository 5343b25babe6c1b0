"""The web chat's file upload: ``POST /api/chat/attachment``, multipart with a ``file`` field (and an
optional ``language``), on the session the server issued (its cookie or ``X-Sportello-Session``).

The same rules as a photo on Telegram: while the session's user has a ticket the file is kept for it,
otherwise the answer offers a person. The body is read here part by part and no further than the size
limit allows (the gateway's 256 KiB body limit is for JSON; a file has its own).
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from bot.core.attachments import DOCUMENT, MediaRef
from bot.core.errors import InvalidMessage
from bot.core.languages import LANGUAGES
from bot.core.messages import WEB_CHAT, InboundMessage, Kind
from bot.web.keys import CONVERSATION, SETTINGS
from bot.web.webchat import result_json, session_token, session_user, within_limits

CHUNK = 64 * 1024
MAX_FIELD_CHARS = 16  # a language code


async def read_limited(part: BodyPartReader, max_bytes: int) -> bytes:
    """The part's bytes, stopping one byte past the limit (enough to know it is too big)."""
    content = bytearray()
    while len(content) <= max_bytes:
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            break
        content += chunk
    return bytes(content[: max_bytes + 1])


async def read_upload(request: web.Request, max_bytes: int) -> tuple[bytes, str, str | None]:
    """The file's bytes, its declared type and the page's language; ``InvalidMessage`` for a body that
    is not such a form (aiohttp asserts or raises ValueError on a broken one: never a 500)."""
    try:
        return await _read_form(request, max_bytes)
    except (AssertionError, ValueError, KeyError, LookupError):
        raise InvalidMessage("the body must be multipart/form-data with a 'file' field") from None


async def _read_form(request: web.Request, max_bytes: int) -> tuple[bytes, str, str | None]:
    reader = await request.multipart()
    content, declared, language = None, "", None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file" and content is None:
            declared = part.headers.get("Content-Type", "")
            content = await read_limited(part, max_bytes)
            break  # the file is the last field the page sends; nothing after it is read
        if part.name == "language":
            language = (await part.text())[:MAX_FIELD_CHARS]
    if content is None:
        raise ValueError("no file")
    return content, declared, language if language in LANGUAGES else None


async def upload(request: web.Request) -> web.Response:
    token, new = session_token(request)
    if new:
        raise InvalidMessage("no chat session: open the chat page first")
    settings = request.app[SETTINGS]
    content, declared, language = await read_upload(request, settings.max_attachment_bytes)
    sent = MediaRef("", DOCUMENT, declared, len(content))
    message = InboundMessage(
        WEB_CHAT, session_user(token), "", Kind.MEDIA, language=language, attachment=sent
    )
    await within_limits(request, message)
    result = await request.app[CONVERSATION].receive_file(message, content)
    return web.json_response(result_json(result))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/chat/attachment", upload)
