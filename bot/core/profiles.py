"""What the desk remembers per user between messages: language (and whether they chose it), city, and a
handoff waiting for the user's few words."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core.messages import HandoffRequest


@dataclass(frozen=True)
class Profile:
    user_key: str
    language: str | None = None
    language_pinned: bool = False
    city: str | None = None
    pending_handoff: HandoffRequest | None = None  # consent given: the next message opens the ticket
    confirming_forget: bool = False  # asked "delete everything?": the answer goes to the assistant

    def with_changes(self, **changes: object) -> Profile:
        return replace(self, **changes)  # type: ignore[arg-type]
