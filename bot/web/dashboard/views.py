"""How tickets look on the dashboard: one dict per ticket, used by the templates and the JSON API alike.

Labels are staff-facing English (mediators share English and Italian); nothing here reaches a migrant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES, LanguageNames, direction
from bot.core.tickets import Author, Entry, Mediator, Note, Outcome, Role, Status, Ticket


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/Rome")
    except ZoneInfoNotFoundError:  # no tz database on the machine: UTC, and the page says so
        return timezone.utc


LOCAL_ZONE = _local_zone()

LANGUAGE_NAMES = {
    "it": "Italian",
    "en": "English",
    "fr": "French",
    "ar": "Arabic",
    "es": "Spanish",
    "uk": "Ukrainian",
    "ru": "Russian",
    "ro": "Romanian",
    "sq": "Albanian",
    "bn": "Bengali",
    "ur": "Urdu",
    "zh": "Chinese",
}
STATUS_LABELS = {
    Status.NEW: "New",
    Status.ASSIGNED: "Assigned",
    Status.WAITING_FOR_USER: "Waiting for the user",
    Status.CLOSED: "Closed",
}
OUTCOME_LABELS = {
    Outcome.RESOLVED: "Resolved",
    Outcome.REFERRED: "Referred to a service",
    Outcome.NO_ANSWER: "No answer from the user",
    Outcome.NOT_ELIGIBLE: "Not eligible",
    Outcome.DUPLICATE: "Duplicate",
    Outcome.OTHER: "Other",
}
AUTHOR_LABELS = {Author.USER: "User", Author.BOT: "Assistant", Author.MEDIATOR: "Mediator"}
ROLE_LABELS = {Role.MEDIATOR: "Mediator", Role.COORDINATOR: "Coordinator"}
CHANNEL_LABELS = {"webchat": "Web chat", "telegram": "Telegram", "whatsapp": "WhatsApp"}


def local_time(moment: datetime | None) -> str:
    """Day and time in Italy (where the one-stop shops are), e.g. ``24/11/2026 14:05``."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def text_direction(language: str) -> str:
    """``dir`` of what the user, the bot or the mediator wrote: rtl for Arabic and Urdu, else auto."""
    return "rtl" if direction(language) == "rtl" else "auto"


def topic_label(topic: str | None) -> str:
    return topic.replace("_", " ").capitalize() if topic else "—"


def entry_view(entry: Entry, ticket: Ticket) -> dict[str, Any]:
    label = AUTHOR_LABELS[entry.author]
    if entry.author is Author.MEDIATOR and entry.mediator:
        label = f"{label} {entry.mediator}"
    return {
        "author": entry.author.value,
        "author_label": label,
        "mediator": entry.mediator,
        "text": entry.text,
        "at": iso(entry.at),
        "at_local": local_time(entry.at),
        "dir": text_direction(ticket.language),
        "lang": ticket.language,
    }


def note_view(note: Note) -> dict[str, Any]:
    return {"mediator": note.mediator, "text": note.text, "at": iso(note.at), "at_local": local_time(note.at)}


@dataclass(frozen=True)
class TicketViews:
    """Renders tickets and mediators with the gateway's catalog and language names, as of ``now``."""

    catalog: Catalog
    names: LanguageNames
    now: datetime

    def language_label(self, code: str) -> str:
        native = self.names.names.get(code, "")
        english = LANGUAGE_NAMES.get(code, code)
        return f"{english} · {native}" if native and native != english else english

    def language_options(self) -> list[tuple[str, str]]:
        return [(code, self.language_label(code)) for code in LANGUAGES]

    def city_name(self, city: str) -> str:
        known = self.catalog.cities.get(city)
        return known.name if known else city

    def summary(self, ticket: Ticket) -> dict[str, Any]:
        """What a queue row shows (no transcript)."""
        return {
            "id": ticket.id,
            "city": ticket.city,
            "city_name": self.city_name(ticket.city),
            "language": ticket.language,
            "language_label": self.language_label(ticket.language),
            "direction": direction(ticket.language),
            "topic": ticket.topic,
            "topic_label": topic_label(ticket.topic),
            "urgent": ticket.urgent,
            "channel": ticket.channel,
            "channel_label": CHANNEL_LABELS.get(ticket.channel, ticket.channel),
            "status": ticket.status.value,
            "status_label": STATUS_LABELS[ticket.status],
            "assignee": ticket.assignee,
            "created_at": iso(ticket.created_at),
            "created_local": local_time(ticket.created_at),
            "due_at": iso(ticket.due_at),
            "due_local": local_time(ticket.due_at),
            "overdue": ticket.overdue(self.now),
            "outcome": ticket.outcome.value if ticket.outcome else None,
            "outcome_label": OUTCOME_LABELS[ticket.outcome] if ticket.outcome else None,
            "closed_at": iso(ticket.closed_at),
            "closed_local": local_time(ticket.closed_at),
        }

    def ticket(self, ticket: Ticket) -> dict[str, Any]:
        """A ticket with its transcript and internal notes (never the user's channel address)."""
        return {
            **self.summary(ticket),
            "details": ticket.details,
            "transcript": [entry_view(entry, ticket) for entry in ticket.transcript],
            "notes": [note_view(note) for note in ticket.notes],
        }

    def mediator(self, mediator: Mediator) -> dict[str, Any]:
        return {
            "id": mediator.id,
            "name": mediator.name,
            "role": mediator.role.value,
            "role_label": ROLE_LABELS[mediator.role],
            "cities": [self.city_name(c) for c in mediator.cities],
            "languages": [LANGUAGE_NAMES.get(code, code) for code in mediator.languages],
            "coordinator": mediator.role is Role.COORDINATOR,
        }
