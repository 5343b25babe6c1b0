"""How tickets look on the dashboard: one dict per ticket, used by the templates and the JSON API alike.

Labels are staff words in the mediator's language (``tr``, the ``dashboard`` catalog: Italian or English;
the tables below hold the English msgids, marked with ``N_``); nothing here reaches a migrant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.catalog import Catalog
from bot.core.i18n import Translator
from bot.core.languages import LANGUAGES, LanguageNames, direction
from bot.core.tickets import Author, Entry, Mediator, Note, Outcome, Role, Status, Ticket
from bot.web.dashboard.i18n import N_


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/Rome")
    except ZoneInfoNotFoundError:  # no tz database on the machine: UTC, and the page says so
        return timezone.utc


LOCAL_ZONE = _local_zone()

LANGUAGE_NAMES = {
    "it": N_("Italian"),
    "en": N_("English"),
    "fr": N_("French"),
    "ar": N_("Arabic"),
    "es": N_("Spanish"),
    "uk": N_("Ukrainian"),
    "ru": N_("Russian"),
    "ro": N_("Romanian"),
    "sq": N_("Albanian"),
    "bn": N_("Bengali"),
    "ur": N_("Urdu"),
    "zh": N_("Chinese"),
}
STATUS_LABELS = {
    Status.NEW: N_("New"),
    Status.ASSIGNED: N_("Assigned"),
    Status.WAITING_FOR_USER: N_("Waiting for the user"),
    Status.CLOSED: N_("Closed"),
}
OUTCOME_LABELS = {
    Outcome.RESOLVED: N_("Resolved"),
    Outcome.REFERRED: N_("Referred to a service"),
    Outcome.NO_ANSWER: N_("No answer from the user"),
    Outcome.NOT_ELIGIBLE: N_("Not eligible"),
    Outcome.DUPLICATE: N_("Duplicate"),
    Outcome.OTHER: N_("Other"),
}
AUTHOR_LABELS = {Author.USER: N_("User"), Author.BOT: N_("Assistant"), Author.MEDIATOR: N_("Mediator")}
ROLE_LABELS = {Role.MEDIATOR: N_("Mediator"), Role.COORDINATOR: N_("Coordinator")}
CHANNEL_LABELS = {"webchat": N_("Web chat"), "telegram": "Telegram", "whatsapp": "WhatsApp"}
ENGLISH = Translator("en", {})  # English is the msgid: nothing to look up


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


def entry_view(entry: Entry, ticket: Ticket, tr: Translator = ENGLISH) -> dict[str, Any]:
    label = tr._(AUTHOR_LABELS[entry.author])
    if entry.author is Author.MEDIATOR and entry.mediator:
        label = tr._("Mediator {name}", name=entry.mediator)
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
    """Renders tickets and mediators with the gateway's catalog and language names, as of ``now``, in the
    mediator's language: ``tr`` for the dashboard's words, ``topic_titles`` (id -> title, from the
    knowledge in that language) for topics. Build it with ``responses.ticket_views(request)``."""

    catalog: Catalog
    names: LanguageNames
    now: datetime
    tr: Translator = ENGLISH
    topic_titles: Mapping[str, str] = field(default_factory=dict)

    def language_name(self, code: str) -> str:
        """The language's name in the mediator's language ("Arabo")."""
        return self.tr._(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code

    def language_label(self, code: str) -> str:
        native = self.names.names.get(code, "")
        name = self.language_name(code)
        return f"{name} · {native}" if native and native != name else name

    def topic_label(self, topic: str | None) -> str:
        """The topic's title in the mediator's language, where the knowledge has one."""
        if topic and topic in self.topic_titles:
            return self.topic_titles[topic]
        return topic_label(topic)

    def topic_options(self) -> list[tuple[str, str]]:
        return [(t, self.topic_label(t)) for t in self.catalog.topics]

    def status_options(self) -> list[tuple[str, str]]:
        return [(s.value, self.tr._(label)) for s, label in STATUS_LABELS.items()]

    def outcome_options(self) -> list[tuple[str, str]]:
        return [(o.value, self.tr._(label)) for o, label in OUTCOME_LABELS.items()]

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
            "topic_label": self.topic_label(ticket.topic),
            "urgent": ticket.urgent,
            "channel": ticket.channel,
            "channel_label": self.tr._(CHANNEL_LABELS.get(ticket.channel, ticket.channel)),
            "status": ticket.status.value,
            "status_label": self.tr._(STATUS_LABELS[ticket.status]),
            "assignee": ticket.assignee,
            "created_at": iso(ticket.created_at),
            "created_local": local_time(ticket.created_at),
            "due_at": iso(ticket.due_at),
            "due_local": local_time(ticket.due_at),
            "overdue": ticket.overdue(self.now),
            "outcome": ticket.outcome.value if ticket.outcome else None,
            "outcome_label": self.tr._(OUTCOME_LABELS[ticket.outcome]) if ticket.outcome else None,
            "closed_at": iso(ticket.closed_at),
            "closed_local": local_time(ticket.closed_at),
        }

    def ticket(self, ticket: Ticket) -> dict[str, Any]:
        """A ticket with its transcript and internal notes (never the user's channel address)."""
        return {
            **self.summary(ticket),
            "details": ticket.details,
            "transcript": [entry_view(entry, ticket, self.tr) for entry in ticket.transcript],
            "notes": [note_view(note) for note in ticket.notes],
        }

    def mediator(self, mediator: Mediator) -> dict[str, Any]:
        return {
            "id": mediator.id,
            "name": mediator.name,
            "role": mediator.role.value,
            "role_label": self.tr._(ROLE_LABELS[mediator.role]),
            "cities": [self.city_name(c) for c in mediator.cities],
            "languages": [self.language_name(code) for code in mediator.languages],
            "language": mediator.language,
            "coordinator": mediator.role is Role.COORDINATOR,
        }
