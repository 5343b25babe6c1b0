"""Typed commands (/start, /status, ...) work on every channel: each stands for a Rasa payload."""

from __future__ import annotations

from bot.dialogue.turn import payload

COMMANDS = {
    "start": payload("choose_language"),
    "language": payload("choose_language"),
    "city": payload("choose_city"),
    "help": payload("menu"),
    "human": payload("ask_human"),
    "status": payload("check_status"),
    "forget": payload("forget_me"),
}


def command_or_text(text: str) -> str:
    """A known command becomes its payload; an unknown one is read as plain words; payloads pass."""
    text = text.strip()
    if not text.startswith("/") or "{" in text:
        return text
    command = text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else ""
    if command in COMMANDS:
        return COMMANDS[command]
    return text
