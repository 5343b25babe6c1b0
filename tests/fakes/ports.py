"""Small in-process fakes of the engine and channel ports (not mocks): an engine and an outbound channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.adapters.sending import SendsParts
from bot.core.attachments import MediaRef
from bot.core.errors import AttachmentRefused, DeliveryError, EngineUnavailable, TranslationUnavailable
from bot.core.messages import Reply, Understanding


@dataclass
class FakeEngine:
    """Answers every message with one text reply ``re:<text>``; ``down`` makes it unavailable."""

    down: bool = False
    seen: list[str] = field(default_factory=list)
    readings: dict[str, Understanding] = field(default_factory=dict)  # text -> what understand() says
    broken: dict[str, int] = field(default_factory=dict)  # text -> how many more sends of it raise
    down_for: set[str] = field(default_factory=set)  # user keys whose messages find the engine down

    async def send(
        self, user_key: str, text: str, metadata: dict[str, Any], message_id: str | None = None
    ) -> list[dict[str, Any]]:
        if self.down or user_key in self.down_for:
            raise EngineUnavailable("fake engine is down")
        if self.broken.get(text, 0) > 0:
            self.broken[text] -= 1
            raise ValueError("a bug in answering this message")
        self.seen.append(text)
        return [{"recipient_id": user_key, "text": f"re:{text}"}]

    async def understand(self, text: str) -> Understanding:
        if self.down:
            raise EngineUnavailable("fake engine is down")
        return self.readings.get(text, Understanding())


@dataclass
class FakeChannel(SendsParts):
    """Records what it sends; ``errors`` are raised, one per send, before anything succeeds."""

    name: str = "telegram"
    errors: list[DeliveryError] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)

    def parts(self, reply: Reply, language: str) -> list[Any]:
        """Paragraphs are separate messages here, to exercise multi-part replies."""
        return reply.text.split("\n\n")

    async def send_part(self, user: str, part: Any) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((user, str(part)))
        return f"m{len(self.sent)}"

    async def send_template(self, user: str, language: str) -> str:
        self.templates.append(user)
        return f"t{len(self.templates)}"


@dataclass
class ScriptedEngine:
    """Answers with the next scripted list of Rasa messages (text and control), like the REST channel."""

    script: list[list[dict[str, Any]]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    readings: dict[str, Understanding] = field(default_factory=dict)  # text -> what understand() says
    understood: list[str] = field(default_factory=list)

    async def send(
        self, user_key: str, text: str, metadata: dict[str, Any], message_id: str | None = None
    ) -> list[dict[str, Any]]:
        self.seen.append(text)
        return self.script.pop(0) if self.script else [{"recipient_id": user_key, "text": f"re:{text}"}]

    async def understand(self, text: str) -> Understanding:
        self.understood.append(text)
        return self.readings.get(text, Understanding())


def control(**signals: Any) -> dict[str, Any]:
    return {"recipient_id": "x", "custom": {"sportello": signals}}


@dataclass
class FakeTranslator:
    """Marks each text with its target (``[it] ...``); ``down`` makes the service fail. Keeps what it
    was asked, so a test can see what left the desk."""

    down: bool = False
    asked: list[tuple[str, str, str]] = field(default_factory=list)  # (source, target, text)

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.asked += [(source, target, text) for text in texts]
        if self.down:
            raise TranslationUnavailable("fake translator is down")
        return [f"[{target}] {text}" for text in texts]


@dataclass
class FakeMediaSource:
    """A platform's file download: ``files`` by file id; a missing one fails like a platform outage."""

    files: dict[str, bytes] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def download(self, ref: MediaRef, max_bytes: int) -> bytes:
        self.asked.append(ref.file_id)
        if ref.file_id not in self.files:
            raise DeliveryError("the platform has no such file")
        if len(self.files[ref.file_id]) > max_bytes:
            raise AttachmentRefused("too_big")
        return self.files[ref.file_id]
