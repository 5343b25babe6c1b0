"""What the desk's overview reads: the facts of a ticket that statistics and search need (no transcript,
no user), a search over them, and the messages the assistant could not answer (text, language, guess;
never who wrote it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.core.tickets import Outcome, Status


@dataclass(frozen=True)
class TicketFacts:
    """One ticket as statistics and search see it: what it was about and how it went."""

    id: str
    city: str
    language: str
    topic: str | None
    urgent: bool
    status: Status
    outcome: Outcome | None
    created_at: datetime
    due_at: datetime
    first_reply_at: datetime | None = None
    closed_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status is not Status.CLOSED and now > self.due_at


@dataclass(frozen=True)
class TicketQuery:
    """Which tickets, always within ``cities`` (the mediator's); every other field narrows it."""

    cities: tuple[str, ...]
    id_contains: str = ""
    topic: str | None = None
    language: str | None = None
    status: Status | None = None
    opened_from: datetime | None = None  # inclusive
    opened_until: datetime | None = None  # exclusive
    only_open: bool = False
    limit: int | None = None


class MissKind(str, Enum):
    """Why a message got no topic answer."""

    NOT_UNDERSTOOD = "not_understood"  # below the confidence threshold
    OUT_OF_SCOPE = "out_of_scope"
    NO_ANSWER = "no_answer"  # understood, but the topic has no knowledge entry in that language


class Decision(str, Enum):
    """What staff made of a group of missed messages."""

    EXAMPLE = "example"  # new training examples for a topic
    KNOWLEDGE = "knowledge"  # a knowledge entry is needed
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Miss:
    """What the dialogue says about a message it could not answer (carried in the turn's signals)."""

    kind: MissKind
    topic: str | None = None  # the classifier's best topic, however unsure
    confidence: float = 0.0


@dataclass(frozen=True)
class MissedMessage:
    """A missed message as stored: no user key, no ticket, no channel address."""

    text: str
    language: str
    kind: MissKind
    topic: str | None
    confidence: float
    city: str | None
    at: datetime
    id: int = 0
    decision: Decision | None = None
    decision_topic: str | None = None


@dataclass(frozen=True)
class MissedGroup:
    """The undecided missed messages of one language and guessed topic."""

    language: str
    topic: str | None
    messages: tuple[MissedMessage, ...]


# Long digit runs (phone numbers, document numbers) and e-mail addresses are not kept even for the
# retention period: a training example needs the words, not the person.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d[\d\s./-]{4,}\d")
REDACTED = "…"
MAX_MISSED_CHARS = 500  # a training example is a sentence, not a letter


def redact(text: str) -> str:
    """The text without e-mail addresses and long numbers."""
    return _NUMBER.sub(REDACTED, _EMAIL.sub(REDACTED, text)).strip()


def missed_text(text: str) -> str:
    """What is kept of a missed message's words (and what /forget looks for)."""
    return redact(text)[:MAX_MISSED_CHARS]
