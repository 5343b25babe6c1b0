"""Typed commands (/start, /status, ...) work on every channel: each stands for a Rasa payload."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

from bot.core.messages import PAYLOAD, payload

COMMANDS = {
    "start": payload("choose_language"),
    "language": payload("choose_language"),
    "city": payload("choose_city"),
    "help": payload("menu"),
    "human": payload("ask_human"),
    "status": payload("check_status"),
    "forget": payload("forget_me"),
}


def command_or_text(text: str, payloads_allowed: bool = False) -> str:
    """A known command becomes its payload. Anything else starting with "/" is a button payload where
    the channel sends presses as text (the web chat: ``payloads_allowed``), and plain words elsewhere
    (Telegram and WhatsApp send presses separately, so a typed "/menu" must not act as a press)."""
    text = text.strip()
    if not text.startswith("/"):
        return text
    command = text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else ""
    if command in COMMANDS and "{" not in text:
        return COMMANDS[command]
    return text if payloads_allowed else plain_words(text)


def plain_words(text: str) -> str:
    """Typed text that can never act as a Rasa payload: Rasa strips the text before it looks for a
    leading "/", so "/ /affirm" or a non-breaking space before the slash must lose every leading slash."""
    while text.startswith("/") or (text and text[0].isspace()):
        text = text.lstrip("/").lstrip()
    return text


# What the desk's buttons can say: these intents, and these entities with values of the catalog.
BUTTON_INTENTS = frozenset(
    {"menu", "choose_city", "choose_language", "ask_human", "check_status", "forget_me", "affirm", "deny"}
)


def could_be_offered(text: str, topics: Collection[str], values: Mapping[str, Collection[str]]) -> bool:
    """Whether a payload is one the desk's own buttons produce (an intent of ours, entities only where
    a button carries them, with a value of the catalog): anything else typed as a payload is words.
    ``values``: entity -> allowed values (category, city, language)."""
    match = PAYLOAD.match(text)
    if match is None:
        return False
    intent = match["intent"]
    if intent not in BUTTON_INTENTS and intent not in topics:
        return False
    if not match["entities"]:
        return True
    try:
        entities = json.loads(match["entities"])
    except ValueError:
        return False
    expected = {"menu": "category", "choose_city": "city", "choose_language": "language"}.get(intent)
    return (
        isinstance(entities, dict)
        and expected is not None
        and list(entities) == [expected]
        and entities[expected] in values.get(expected, ())
    )
