"""Rasa's tracker store (its own SQLite file, Rasa's own tables), read and erased from the gateway.

Reading: the conversation copied into a ticket at handoff. Erasing: ``/forget`` leaves nothing of the user
in Rasa either. Rasa 3.6's SQLTrackerStore keeps one row per event in ``events`` (sender_id, type_name,
timestamp, data as JSON), in SQLite for one Rasa server or in PostgreSQL for several.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text

from bot.core.tickets import Author, Entry


def _secure_delete(connection: Any, record: Any) -> None:
    """What we delete is overwritten on disk (SQLite keeps deleted rows in free pages otherwise)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class RasaTracker:
    """``database``: the SQLite file of one Rasa server, or the PostgreSQL address (SQLAlchemy URL) of
    the tracker several Rasa servers share."""

    def __init__(self, database: Path | str) -> None:
        self.database = database
        self._engine: Engine | None = None

    def _connect(self) -> Connection | None:
        """A connection, or None while Rasa has stored nothing yet (no file, no table)."""
        if isinstance(self.database, Path) and not self.database.exists():
            return None
        if self._engine is None:
            url = f"sqlite:///{self.database}" if isinstance(self.database, Path) else self.database
            self._engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
            if self._engine.dialect.name == "sqlite":
                event.listen(self._engine, "connect", _secure_delete)
        connection = self._engine.connect()
        if not inspect(connection).has_table("events"):
            connection.close()
            return None
        return connection

    def _conversation(self, user_key: str, limit: int) -> list[Entry]:
        connection = self._connect()
        if connection is None:
            return []
        with connection:
            rows = connection.execute(
                text(
                    "select type_name, timestamp, data from events where sender_id = :user "
                    "and type_name in ('user', 'bot') and id > coalesce((select max(id) from events "
                    "where sender_id = :user and type_name = 'session_started'), 0) "
                    "order by id desc limit :limit"
                ),
                {"user": user_key, "limit": limit},
            ).all()
        entries = []
        for type_name, timestamp, data in reversed(rows):
            said = (json.loads(data or "{}") or {}).get("text") or ""
            if said and not said.startswith("/"):
                at = datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
                entries.append(Entry(Author.USER if type_name == "user" else Author.BOT, said, at))
        return entries

    def _delete(self, where: str, values: dict[str, object]) -> int:
        connection = self._connect()
        if connection is None:
            return 0
        with connection:
            result = connection.execute(text(f"delete from events where {where}"), values)
            connection.commit()
        return int(result.rowcount or 0)

    def _erase(self, user_key: str) -> int:
        return self._delete("sender_id = :user", {"user": user_key})

    def _purge(self, before: float) -> int:
        return self._delete("timestamp < :before", {"before": before})

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
