"""WhatsApp Cloud API over aiohttp: webhook verification and signatures, inbound parsing, replies within
WhatsApp's limits (text 4,096; up to 3 reply buttons of 20 characters; lists of up to 10 rows of 24),
and the 24-hour customer-service window (outside it only an approved template may be sent).

Why not pywa: we need only a few endpoints, and our own inbox/outbox already owns retries and order.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.channels import payloads
from bot.channels.base import InboundMessage, Kind, RetryLater, SendsParts, Undeliverable, WindowClosed
from bot.channels.commands import command_or_text
from bot.dialogue.turn import Button, Reply
from bot.i18n import Translations, Translator
from bot.mailbox import utcnow

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)
MAX_TEXT, MAX_BODY, MAX_BUTTONS, MAX_BUTTON_TITLE = 4096, 1024, 3, 20
MAX_ROWS, MAX_ROW_TITLE = 10, 24
RATE_LIMIT_CODES = {130429, 131056, 4, 80007}
WINDOW_CODES = {131047}
MEDIA_TYPES = {"image", "video", "document", "sticker", "location", "contacts"}
Json = dict[str, Any]
LastInbound = Callable[[str], Awaitable[datetime | None]]


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str
    status: str
    error_code: int | None
    error: str | None


def signature_ok(body: bytes, header: str | None, app_secret: str) -> bool:
    """X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def verify_subscription(query: Any, verify_token: str) -> str | None:
    """The hub.challenge to echo when Meta's verification request carries our verify token."""
    if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
        str(query.get("hub.verify_token", "")), verify_token
    ):
        return str(query.get("hub.challenge", ""))
    return None


def parse_notification(payload: Json) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    messages, statuses = [], []
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for item in value.get("messages") or []:
                message = _message(item, value.get("contacts") or [])
                if message is not None:
                    messages.append(message)
            statuses += [_status(s) for s in value.get("statuses") or [] if s.get("id")]
    return messages, statuses


def _user(item: Json, contacts: list[Json]) -> str:
    """The business-scoped user id when present (a phone number may be withheld), else the wa_id."""
    contact = next(
        (c for c in contacts if c.get("wa_id") == item.get("from")), contacts[0] if contacts else {}
    )
    return str(item.get("from_user_id") or contact.get("user_id") or item.get("from") or contact.get("wa_id"))


def _message(item: Json, contacts: list[Json]) -> InboundMessage | None:
    kind, text = _content(item)
    if kind is None:
        return None
    received = datetime.fromtimestamp(int(item.get("timestamp") or 0)) if item.get("timestamp") else None
    return InboundMessage(
        CHANNEL,
        _user(item, contacts),
        text,
        kind,
        str(item["id"]),
        received_at=received.astimezone() if received else None,
    )


def _content(item: Json) -> tuple[Kind | None, str]:
    kind = item.get("type")
    if kind == "text":
        return Kind.TEXT, command_or_text(str((item.get("text") or {}).get("body", "")))
    if kind == "interactive":
        interactive = item.get("interactive") or {}
        choice = interactive.get("button_reply") or interactive.get("list_reply") or {}
        decoded = payloads.decode(str(choice.get("id", "")))
        return Kind.TEXT, decoded or str(choice.get("title", ""))
    if kind == "button":  # a quick reply of a template
        return Kind.TEXT, str((item.get("button") or {}).get("text", ""))
    if kind == "audio":
        return Kind.VOICE, ""
    if kind == "reaction":
        return None, ""
    return Kind.MEDIA, ""


def _status(item: Json) -> StatusUpdate:
    errors = item.get("errors") or [{}]
    code = errors[0].get("code")
    return StatusUpdate(
        str(item["id"]),
        str(item.get("status", "")),
        int(code) if code else None,
        errors[0].get("title") or errors[0].get("message"),
    )


# rendering ---------------------------------------------------------------------------------------
def chunks(text: str, limit: int) -> list[str]:
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts


def _shorten(title: str, limit: int) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def render(reply: Reply, tr: Translator) -> list[Json]:
    """The Cloud API message bodies (without recipient) that carry one reply."""
    if not reply.buttons:
        return [{"type": "text", "text": {"body": part}} for part in chunks(reply.text, MAX_TEXT)]
    fits_body = len(reply.text) <= MAX_BODY
    lead = [] if fits_body else [{"type": "text", "text": {"body": p}} for p in chunks(reply.text, MAX_TEXT)]
    body = reply.text if fits_body else tr._("Choose an option:")
    buttons = list(reply.buttons)
    if len(buttons) <= MAX_BUTTONS and all(len(b.title) <= MAX_BUTTON_TITLE for b in buttons):
        return [*lead, _button_message(body, buttons)]
    pages = [buttons[i : i + MAX_ROWS] for i in range(0, len(buttons), MAX_ROWS)]
    lists = [
        _list_message(body if index == 0 else tr._("More options:"), page, tr)
        for index, page in enumerate(pages)
    ]
    return [*lead, *lists]


def _button_message(body: str, buttons: list[Button]) -> Json:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": payloads.encode(b.payload), "title": b.title}}
                    for b in buttons
                ]
            },
        },
    }


def _list_message(body: str, buttons: list[Button], tr: Translator) -> Json:
    rows = [{"id": payloads.encode(b.payload), "title": _shorten(b.title, MAX_ROW_TITLE)} for b in buttons]
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": _shorten(tr._("Choose"), MAX_BUTTON_TITLE), "sections": [{"rows": rows}]},
        },
    }


class WhatsAppChannel(SendsParts):
    name = CHANNEL

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        translations: Translations,
        last_inbound: LastInbound,
        template_name: str,
        template_language: Callable[[str], str],
        timeout: float = 20.0,
    ) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self.translations = translations
        self.last_inbound = last_inbound
        self.template_name = template_name
        self.template_language = template_language

    def parts(self, reply: Reply, language: str) -> list[Any]:
        """The Cloud API messages of one reply (see ``render``)."""
        return list(render(reply, self.translations(language)))

    async def send_part(self, user: str, part: Any) -> str:
        last = await self.last_inbound(f"{CHANNEL}:{user}")
        if last is None or utcnow() - last > WINDOW:
            raise WindowClosed("outside the 24-hour window")
        return await self._post(user, part)

    async def send_template(self, user: str, language: str) -> str:
        body = {
            "type": "template",
            "template": {"name": self.template_name, "language": {"code": self.template_language(language)}},
        }
        return await self._post(user, body)

    async def _post(self, user: str, body: Json) -> str:
        address = {"to": user} if user.isdigit() else {"recipient": user}
        request = {"messaging_product": "whatsapp", "recipient_type": "individual", **address, **body}
        try:
            async with self._session.post(
                self._url, json=request, headers=self._headers, timeout=self._timeout
            ) as response:
                answer = await response.json(content_type=None)
                status = response.status
        # aiohttp's timeout raises asyncio.TimeoutError: not the builtin TimeoutError before Python 3.11
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RetryLater(10, f"whatsapp unreachable: {type(exc).__name__}") from exc
        if status == 200:
            return str(answer["messages"][0]["id"])
        raise _error(status, answer)


def _error(status: int, answer: Any) -> Exception:
    error = (answer or {}).get("error") or {} if isinstance(answer, dict) else {}
    code = error.get("code")
    reason = f"whatsapp {status} code {code}: {error.get('message', '')}"
    if code in WINDOW_CODES:
        return WindowClosed(reason)
    if code in RATE_LIMIT_CODES or status == 429:
        return RetryLater(30, reason)
    if status >= 500 or code == 131000:
        return RetryLater(10, reason)
    return Undeliverable(reason)
