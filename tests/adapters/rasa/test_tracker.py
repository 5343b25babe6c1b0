"""Reading Rasa's tracker from the gateway: a ticket copies the current session only."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.adapters.rasa.tracker import RasaTracker
from bot.core.tickets import Author
from tests.helpers.databases import fresh_postgres

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


async def test_several_rasa_servers_share_a_tracker_on_postgresql() -> None:
    """Rasa's events table on PostgreSQL (as Rasa 3.6 creates it): read for a ticket, erased by /forget."""
    with fresh_postgres() as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "create table events (id serial primary key, sender_id varchar(255) not null, "
                    "type_name varchar(255) not null, timestamp float, intent_name varchar(255), "
                    "action_name varchar(255), data text)"
                )
            )
            for kind, said in [("user", "my landlord changed the lock"), ("bot", "Call 112")]:
                connection.execute(
                    text(
                        "insert into events (sender_id, type_name, timestamp, data) "
                        "values (:s, :k, :t, :d)"
                    ),
                    {"s": USER, "k": kind, "t": time.time(), "d": json.dumps({"text": said})},
                )
        engine.dispose()
        tracker = RasaTracker(url)
        read = [e.text for e in await tracker.conversation(USER)]
        assert read == ["my landlord changed the lock", "Call 112"]
        assert await tracker.erase(USER) == 2
        assert await tracker.conversation(USER) == []
        assert tracker._engine is not None
        tracker._engine.dispose()


async def test_nothing_stored_yet_reads_as_an_empty_conversation(tmp_path: Path) -> None:
    assert await RasaTracker(tmp_path / "not-yet.db").conversation(USER) == []
    with fresh_postgres() as url:
        tracker = RasaTracker(url)  # Rasa has not created its table yet
        assert await tracker.conversation(USER) == [] and await tracker.erase(USER) == 0
        assert tracker._engine is not None
        tracker._engine.dispose()
