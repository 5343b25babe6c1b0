"""Rasa's tracker store (its own SQLite file, Rasa's own tables), read and erased from the gateway.

Reading: the conversation copied into a ticket at handoff. Erasing: ``/forget`` leaves nothing of the user
in Rasa either. Rasa 3.6's SQLTrackerStore keeps one row per event in ``events`` (sender_id, type_name,
timestamp, data as JSON).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.core.tickets import Author, Entry


class RasaTracker:
    def __init__(self, database: Path) -> None:
        self.database = database

    def _connect(self) -> sqlite3.Connection | None:
        if not self.database.exists():
            return None
        connection = sqlite3.connect(self.database, timeout=10)
        connection.execute("PRAGMA secure_delete=ON")  # what we delete is overwritten on disk
        return connection

    def _conversation(self, user_key: str, limit: int) -> list[Entry]:
        connection = self._connect()
        if connection is None:
            return []
        with connection:
            rows = connection.execute(
                "select type_name, timestamp, data from events where sender_id = ? "
                "and type_name in ('user', 'bot') and id > coalesce((select max(id) from events "
                "where sender_id = ? and type_name = 'session_started'), 0) order by id desc limit ?",
                (user_key, user_key, limit),
            ).fetchall()
        connection.close()
        entries = []
        for type_name, timestamp, data in reversed(rows):
            text = (json.loads(data or "{}") or {}).get("text") or ""
            if text and not text.startswith("/"):
                at = datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
                entries.append(Entry(Author.USER if type_name == "user" else Author.BOT, text, at))
        return entries

    def _erase(self, user_key: str) -> int:
        connection = self._connect()
        if connection is None:
            return 0
        with connection:
            deleted = connection.execute("delete from events where sender_id = ?", (user_key,)).rowcount
        connection.close()
        return int(deleted)

    def _purge(self, before: float) -> int:
        connection = self._connect()
        if connection is None:
            return 0
        with connection:
            deleted = connection.execute("delete from events where timestamp < ?", (before,)).rowcount
        connection.close()
        return int(deleted)

    async def purge_older_than(self, older_than: timedelta) -> int:
        """Retention: every event (what users and the bot said) older than ``older_than``."""
        before = (datetime.now(timezone.utc) - older_than).timestamp()
        return await asyncio.to_thread(self._purge, before)

    async def conversation(self, user_key: str, limit: int = 40) -> list[Entry]:
        """The last ``limit`` user and bot messages of the current session (button payloads left out):
        a ticket carries today's conversation, not everything the user ever wrote."""
        return await asyncio.to_thread(self._conversation, user_key, limit)

    async def erase(self, user_key: str) -> int:
        return await asyncio.to_thread(self._erase, user_key)
