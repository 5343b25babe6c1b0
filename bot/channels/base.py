"""What every channel shares: the inbound message, the outbound port, and delivery outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from bot.dialogue.turn import Reply


class Kind(str, Enum):
    """What a user sent. Only text and button presses go to Rasa; the rest get a kind fixed reply."""

    TEXT = "text"
    VOICE = "voice"
    MEDIA = "media"  # photo, document, sticker, video, contacts, location


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    user: str  # the platform's user id (chat id, wa_id or business-scoped id)
    text: str = ""
    kind: Kind = Kind.TEXT
    platform_id: str = ""  # dedupe key within the channel (update_id, wamid)
    language: str | None = None  # an explicit choice (language button, web page selector)
    city: str | None = None
    language_hint: str | None = None  # e.g. Telegram's language_code, used when the text says too little
    received_at: datetime | None = None

    @property
    def user_key(self) -> str:
        return f"{self.channel}:{self.user}"

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")


class DeliveryError(Exception):
    """A send that did not go through."""


class RetryLater(DeliveryError):
    """The platform asked us to wait (rate limit, temporary failure)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds, self.reason = seconds, reason


class WindowClosed(DeliveryError):
    """WhatsApp: outside the 24-hour window only an approved template may be sent."""


class Undeliverable(DeliveryError):
    """A permanent failure (blocked by the user, invalid request): recorded, never retried."""


class OutboundChannel(Protocol):
    """The port every sending channel implements.

    A reply may need several platform messages (a long text, a list after a text): ``parts`` says which,
    and the outbox records each part once sent, so a retry never repeats what the user already has.
    """

    name: str

    def parts(self, reply: Reply, language: str) -> list[Any]:
        """The platform messages that carry one reply, in order."""
        ...

    async def send_part(self, user: str, part: Any) -> str:
        """Send one part; return the platform's message id. Raise a ``DeliveryError`` otherwise."""
        ...

    async def send(self, user: str, reply: Reply, language: str) -> str:
        """Send every part of a reply (for callers without an outbox); the last message id."""
        ...

    async def send_template(self, user: str, language: str) -> str:
        """Re-open a conversation (WhatsApp's approved template); others just raise Undeliverable."""
        ...


class SendsParts:
    """``send`` for channels that define ``parts`` and ``send_part``."""

    def parts(self, reply: Reply, language: str) -> list[Any]:
        raise NotImplementedError

    async def send_part(self, user: str, part: Any) -> str:
        raise NotImplementedError

    async def send(self, user: str, reply: Reply, language: str) -> str:
        message_id = ""
        for part in self.parts(reply, language):
            message_id = await self.send_part(user, part)
        return message_id
