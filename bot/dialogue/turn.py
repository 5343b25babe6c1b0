"""What a dialogue function reads (``TurnContext``) and returns (``Turn``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.messages import CONTROL_KEY, Reply, Signals


@dataclass(frozen=True)
class TurnContext:
    """What an action knows about the message it answers."""

    language: str
    city: str | None = None
    channel: str = "webchat"
    intent: str | None = None
    text: str = ""
    entities: dict[str, str] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    # the classifier's intents and confidences, best first (what a missed message was closest to)
    ranking: tuple[tuple[str, float], ...] = ()

    @property
    def urgency(self) -> str | None:
        """The kind of danger the urgency check found in this message (eviction, emergency_shelter,
        emergency_health, danger), or None."""
        return self.entities.get("urgency") or None


@dataclass
class Turn:
    """The assistant's answer to one message, plus the decisions the gateway must remember."""

    replies: list[Reply] = field(default_factory=list)
    topic: str | None = None
    city: str | None = None
    language: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    signals: Signals = field(default_factory=Signals)  # what the gateway must do after this turn

    def control(self) -> dict[str, Any]:
        """The custom message that carries the decisions to the gateway."""
        decided = {"topic": self.topic, "city": self.city, "language": self.language}
        wire = {k: v for k, v in decided.items() if v is not None}
        return {CONTROL_KEY: {**wire, **self.signals.to_wire()}}
