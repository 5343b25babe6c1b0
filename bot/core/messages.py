"""What crosses the desk: a user's message in, replies out, and what a turn decided.

Channels turn their platform's updates into ``InboundMessage``; Rasa actions answer with ``Reply`` values
and ``Signals``; the inbox and the outbox carry them as ``Inbound`` and ``Outbound`` rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from bot.core.attachments import MediaRef
from bot.core.overview import Miss, MissKind
from bot.core.text import clean_text

# The key of the custom message actions send to tell the gateway what a turn decided.
CONTROL_KEY = "sportello"
# The web chat answers each request in its HTTP response: there is no way to push a message to it (yet).
WEB_CHAT = "webchat"


class Kind(str, Enum):
    """What a user sent. Only text and button presses go to Rasa; the rest get a kind fixed reply."""

    TEXT = "text"
    VOICE = "voice"
    MEDIA = "media"  # photo, document, sticker, video, contacts, location
    GROUP = "group"  # a command in a group chat: the desk talks to people in private only


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
    attachment: MediaRef | None = None  # a photo or document the platform holds for us

    def __post_init__(self) -> None:
        # every channel's text is cleaned here, once: nothing unsafe reaches the inbox or Rasa
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "user", clean_text(self.user))

    @property
    def user_key(self) -> str:
        return user_key(self.channel, self.user)

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")


def user_key(channel: str, user: str) -> str:
    """How the desk names a user everywhere: ``<channel>:<platform user id>``."""
    return f"{channel}:{user}"


def split_user_key(key: str) -> tuple[str, str]:
    """The channel and the platform's user id of a user key (the inverse of ``user_key``)."""
    channel, _, user = key.partition(":")
    return channel, user


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()


# A payload as ``payload`` writes it: the intent, then its entities as JSON.
PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<entities>\{.*\})?$")


def payload(intent: str, **entities: str) -> str:
    """A button payload in Rasa's syntax: pressing it triggers ``intent`` with ``entities``."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'), ensure_ascii=False)}"


# what a turn decided -------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandoffRequest:
    """The user agreed to talk to a person: their next message is the few words for the ticket."""

    topic: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Understanding:
    """What the engine made of a text it was not asked to answer (a ticket's few words)."""

    intent: str | None = None
    confidence: float = 0.0
    urgency: str | None = None  # the kind of danger, when the urgency check fired


@dataclass(frozen=True)
class Signals:
    """What the gateway must do after a turn, besides sending its replies."""

    handoff: HandoffRequest | None = None
    status: bool = False  # list the user's open requests
    forget: bool = False  # erase everything the desk keeps of the user
    asking_forget: bool = False  # the user was asked "delete everything?": the answer is for the assistant
    missed: Miss | None = None  # the message got no topic answer: staff may learn from it

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.handoff is not None:
            wire["handoff"] = {"topic": self.handoff.topic, "urgent": self.handoff.urgent}
        if self.missed is not None:
            miss = self.missed
            wire["missed"] = {"kind": miss.kind.value, "topic": miss.topic, "confidence": miss.confidence}
        for flag in ("status", "forget", "asking_forget"):
            if getattr(self, flag):
                wire[flag] = True
        return wire

    @classmethod
    def from_wire(cls, control: dict[str, Any]) -> Signals:
        handoff = control.get("handoff")
        request = None
        if isinstance(handoff, dict):
            topic = handoff.get("topic")
            request = HandoffRequest(topic if isinstance(topic, str) else None, bool(handoff.get("urgent")))
        return cls(
            request,
            status=bool(control.get("status")),
            forget=bool(control.get("forget")),
            asking_forget=bool(control.get("asking_forget")),
            missed=_missed_from_wire(control.get("missed")),
        )


def _missed_from_wire(wire: object) -> Miss | None:
    """A miss as the action server sent it; anything malformed is no miss."""
    if not isinstance(wire, dict) or wire.get("kind") not in {k.value for k in MissKind}:
        return None
    topic, confidence = wire.get("topic"), wire.get("confidence")
    return Miss(
        MissKind(wire["kind"]),
        topic if isinstance(topic, str) else None,
        float(confidence) if isinstance(confidence, (int, float)) else 0.0,
    )


@dataclass
class ChatResult:
    """The desk's answer to one inbound message, in the language it was answered in."""

    language: str
    topic: str | None = None
    replies: list[Reply] = field(default_factory=list)
    forgotten: bool = False  # the user's data was just erased: keep no trace of this turn either
    relayed: bool = False  # a mediator holds the conversation: the message went to them, the bot is quiet


# the inbox and the outbox --------------------------------------------------------------------------
class OutboundKind(str, Enum):
    REPLY = "reply"
    EPHEMERAL = "ephemeral"  # sent once, then deleted: the confirmation that a user's data is erased
    TEMPLATE = "template"  # WhatsApp's approved template that reopens the 24-hour window
    PERSON = "person"  # written by a person of the one-stop shop (the web chat's page says so)


@dataclass(frozen=True)
class Letter:
    """A message waiting for a user whose page collects it (the web chat): a mediator's reply, or the
    desk's word that the assistant is back. ``id`` grows, so a page asks for what came after the last."""

    id: int
    language: str
    text: str
    from_person: bool
    created_at: datetime


@dataclass(frozen=True)
class Inbound:
    """An inbound message waiting in the inbox: how often it was tried (``attempts``, engine outages
    included) and how often it failed for a reason of its own (``failures``: the poison count)."""

    id: int
    message: InboundMessage
    attempts: int
    failures: int = 0


@dataclass(frozen=True)
class Outbound:
    """A reply waiting in the outbox; ``parts_sent`` of a multi-message reply went out already."""

    id: int
    channel: str
    user_key: str
    language: str
    kind: str
    reply: Reply
    attempts: int
    next_attempt_at: datetime
    parts_sent: int = 0

    @property
    def user(self) -> str:
        return split_user_key(self.user_key)[1]
