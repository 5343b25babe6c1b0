"""Small in-process fakes of our own ports (not mocks): an engine and an outbound channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import DeliveryError
from bot.dialogue.turn import Reply
from bot.errors import EngineUnavailable


@dataclass
class FakeEngine:
    """Answers every message with one text reply ``re:<text>``; ``down`` makes it unavailable."""

    down: bool = False
    seen: list[str] = field(default_factory=list)

    async def send(self, user_key: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if self.down:
            raise EngineUnavailable("fake engine is down")
        self.seen.append(text)
        return [{"recipient_id": user_key, "text": f"re:{text}"}]


@dataclass
class FakeChannel:
    """Records what it sends; ``errors`` are raised, one per send, before anything succeeds."""

    name: str = "telegram"
    errors: list[DeliveryError] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)

    async def send(self, user: str, reply: Reply, language: str) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((user, reply.text))
        return f"m{len(self.sent)}"

    async def send_template(self, user: str, language: str) -> str:
        self.templates.append(user)
        return f"t{len(self.templates)}"
