"""Reading Rasa's tracker from the gateway: a ticket copies the current session only."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from bot.adapters.rasa.tracker import RasaTracker
from bot.core.tickets import Author

USER = "telegram:31"


def tracker_file(path: Path, events: list[tuple[str, str]]) -> RasaTracker:
    """Rasa 3.6's events table holding ``(type_name, text)`` events of one user, in order."""
    connection = sqlite3.connect(path)
    connection.execute(
        "create table events (id integer primary key, sender_id varchar(255), type_name "
        "varchar(255), timestamp float, intent_name varchar(255), action_name varchar(255), data text)"
    )
    for kind, said in events:
        connection.execute(
            "insert into events (sender_id, type_name, timestamp, data) values (?, ?, ?, ?)",
            (USER, kind, time.time(), json.dumps({"text": said} if said else {})),
        )
    connection.commit()
    connection.close()
    return RasaTracker(path)


async def test_the_conversation_is_the_current_session_only(tmp_path: Path) -> None:
    tracker = tracker_file(
        tmp_path / "rasa_tracker.db",
        [
            ("user", "last month: where do I renew my permit"),
            ("bot", "At the Questura"),
            ("session_started", ""),
            ("user", "today: my landlord changed the lock"),
            ("bot", "Call 112 if you are in danger"),
        ],
    )
    entries = await tracker.conversation(USER)
    assert [(e.author, e.text) for e in entries] == [
        (Author.USER, "today: my landlord changed the lock"),
        (Author.BOT, "Call 112 if you are in danger"),
    ]


async def test_without_any_session_start_the_whole_conversation_is_read(tmp_path: Path) -> None:
    tracker = tracker_file(tmp_path / "rasa_tracker.db", [("user", "hello"), ("bot", "Hi")])
    assert [e.text for e in await tracker.conversation(USER)] == ["hello", "Hi"]
