"""WhatsApp Cloud API over aiohttp, sending: replies within WhatsApp's limits (text 4,096; up to 3 reply
buttons of 20 characters; lists of up to 10 rows of 24), and the 24-hour customer-service window
(outside it only an approved template may be sent). The webhook side is in ``webhook.py``.

Why not pywa: we need only a few endpoints, and our own inbox/outbox already owns retries and order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.adapters import payloads
from bot.adapters.sending import SendsParts, split_text
from bot.core.clock import utcnow
from bot.core.errors import RetryLater, Undeliverable, WindowClosed
from bot.core.i18n import Translations, Translator
from bot.core.messages import Button, Reply

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)
MAX_TEXT, MAX_BODY, MAX_BUTTONS, MAX_BUTTON_TITLE = 4096, 1024, 3, 20
MAX_ROWS, MAX_ROW_TITLE = 10, 24
RATE_LIMIT_CODES = {130429, 131056, 4, 80007}
WINDOW_CODES = {131047}
Json = dict[str, Any]
LastInbound = Callable[[str], Awaitable[datetime | None]]


# rendering ---------------------------------------------------------------------------------------
def _shorten(title: str, limit: int) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def render(reply: Reply, tr: Translator) -> list[Json]:
    """The Cloud API message bodies (without recipient) that carry one reply."""
    if not reply.buttons:
        return [{"type": "text", "text": {"body": part}} for part in split_text(reply.text, MAX_TEXT)]
    fits_body = len(reply.text) <= MAX_BODY
    texts = [] if fits_body else split_text(reply.text, MAX_TEXT)
    lead = [{"type": "text", "text": {"body": p}} for p in texts]
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
