"""The values that cross the boundary between Rasa actions, the dialogue functions and the gateway."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The key of the custom message actions send to tell the gateway what a turn decided.
CONTROL_KEY = "sportello"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()


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


@dataclass
class Turn:
    """The assistant's answer to one message, plus the decisions the gateway must remember."""

    replies: list[Reply] = field(default_factory=list)
    topic: str | None = None
    city: str | None = None
    language: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    # what the gateway must do after this turn: "handoff" (consent given: {topic, urgent}),
    # "status" (list the user's open tickets), "forget" (erase the user's data)
    signals: dict[str, Any] = field(default_factory=dict)

    def control(self) -> dict[str, Any]:
        """The custom message that carries the decisions to the gateway."""
        decided = {"topic": self.topic, "city": self.city, "language": self.language, **self.signals}
        return {CONTROL_KEY: {k: v for k, v in decided.items() if v is not None}}


def payload(intent: str, **entities: str) -> str:
    """A button payload in Rasa's syntax: pressing it triggers ``intent`` with ``entities``."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'), ensure_ascii=False)}"
