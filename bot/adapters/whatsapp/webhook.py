"""WhatsApp Cloud API webhooks: Meta's subscription check, the X-Hub-Signature-256 signature, and
notifications parsed into ``InboundMessage`` values and delivery ``StatusUpdate`` values."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.adapters import payloads
from bot.core.commands import command_or_text
from bot.core.messages import InboundMessage, Kind

CHANNEL = "whatsapp"
Json = dict[str, Any]


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
    given = header.removeprefix("sha256=").encode("utf-8", "surrogateescape")  # bytes: any header compares
    return hmac.compare_digest(expected.encode(), given)


def verify_subscription(query: Any, verify_token: str) -> str | None:
    """The hub.challenge to echo when Meta's verification request carries our verify token."""
    given = str(query.get("hub.verify_token", "")).encode("utf-8", "surrogateescape")
    if query.get("hub.mode") == "subscribe" and hmac.compare_digest(given, verify_token.encode()):
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
