"""WhatsApp Cloud API webhooks: Meta's subscription check, the X-Hub-Signature-256 signature, and
notifications parsed into ``InboundMessage`` values and delivery ``StatusUpdate`` values."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.adapters import payloads
from bot.core.attachments import DOCUMENT, PHOTO, MediaRef
from bot.core.commands import command_or_text
from bot.core.messages import InboundMessage, Kind
from bot.core.text import clean_text

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


def objects(value: Any) -> list[Json]:
    """The objects of a list (anything else in it, or a value that is no list, is ignored): a
    notification with a field of the wrong type is read as far as it makes sense, never raises."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def obj(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def parse_notification(payload: Json) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    messages, statuses = [], []
    for entry in objects(payload.get("entry")):
        for change in objects(entry.get("changes")):
            value = obj(change.get("value"))
            contacts = objects(value.get("contacts"))
            for item in objects(value.get("messages")):
                message = _message(item, contacts)
                if message is not None:
                    messages.append(message)
            statuses += [_status(s) for s in objects(value.get("statuses")) if s.get("id")]
    return messages, statuses


def _user(item: Json, contacts: list[Json]) -> str:
    """The business-scoped user id when present (a phone number may be withheld), else the wa_id."""
    contact = next(
        (c for c in contacts if c.get("wa_id") == item.get("from")), contacts[0] if contacts else {}
    )
    user = item.get("from_user_id") or contact.get("user_id") or item.get("from") or contact.get("wa_id")
    return str(user) if isinstance(user, (str, int)) and not isinstance(user, bool) else ""


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value)).astimezone() if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _message(item: Json, contacts: list[Json]) -> InboundMessage | None:
    kind, text = _content(item)
    user, platform_id = _user(item, contacts), _text(item.get("id"))
    if kind is None or not user or not platform_id:
        return None  # nobody to answer, or no id to deduplicate on
    received = _timestamp(item.get("timestamp"))
    media = _media(item)
    if media is not None:  # what the user wrote under their image or document
        text = _text(obj(item.get(str(item.get("type")))).get("caption"))
    return InboundMessage(CHANNEL, user, text, kind, platform_id, received_at=received, attachment=media)


def _media(item: Json) -> MediaRef | None:
    """The media id of an image or a document (downloaded later through the Graph media endpoint)."""
    kind = item.get("type")
    if kind not in ("image", "document"):
        return None
    media = obj(item.get(kind))
    media_id = _text(media.get("id"))
    if not media_id:
        return None
    return MediaRef(media_id, PHOTO if kind == "image" else DOCUMENT, _text(media.get("mime_type")))


def _text(value: Any) -> str:
    """A string field, cleaned (a lone surrogate cannot even be stored); anything else is empty."""
    return clean_text(value) if isinstance(value, str) else ""


def _content(item: Json) -> tuple[Kind | None, str]:
    kind = item.get("type")
    if kind == "text":
        return Kind.TEXT, command_or_text(_text(obj(item.get("text")).get("body")))
    if kind == "interactive":
        interactive = obj(item.get("interactive"))
        choice = obj(interactive.get("button_reply")) or obj(interactive.get("list_reply"))
        decoded = payloads.decode(_text(choice.get("id")))
        return Kind.TEXT, decoded or command_or_text(_text(choice.get("title")))
    if kind == "button":  # a quick reply of a template
        return Kind.TEXT, command_or_text(_text(obj(item.get("button")).get("text")))
    if kind == "audio":
        return Kind.VOICE, ""
    if kind == "reaction":
        return None, ""
    return Kind.MEDIA, ""


def _code(value: Any) -> int | None:
    """Meta's error code: a number (also when it comes as a string of digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # "²" is a digit to str.isdigit and no number to int(); Meta's codes have a few ASCII digits
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9
    return int(value) if digits else None


def _status(item: Json) -> StatusUpdate:
    [error, *_] = objects(item.get("errors")) or [{}]
    code = error.get("code")
    return StatusUpdate(
        clean_text(str(item["id"])),
        _text(item.get("status")),
        _code(code),
        _text(error.get("title")) or _text(error.get("message")) or None,
    )
