"""Run by test_channel.py in Rasa's own environment (.venv-rasa): calls our REST channel's real webhook
handler (from its Sanic blueprint) with a Rasa that fails in four ways, and prints the HTTP statuses it
answered as JSON. The tracker's database is our windowed store behind Rasa's own fail-safe wrapper, made
unreachable after it started (its file's folder gone)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.orm import sessionmaker

from rasa_components.channel import SportelloInput
from rasa_components.tracker_store import WindowedSQLTrackerStore

FAILURES: dict[str, Exception | None] = {
    "lock store": LockError("Could not acquire lock"),
    "redis": RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    "a bug": KeyError("slot"),
    "nothing": None,
}


@dataclass
class PostedJson:
    """What the handler reads of a request: its JSON body (no message_id, so no tracker is read)."""

    json: dict[str, Any]


def unreachable_tracker_store(folder: Path) -> FailSafeTrackerStore:
    """Our store as Rasa wraps it, on a database that stopped answering after start-up."""
    store = WindowedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(folder / "tracker.db"))
    store.engine = sa.create_engine(f"sqlite:///{folder / 'gone' / 'tracker.db'}")
    store.sessionmaker = sessionmaker(bind=store.engine)
    return FailSafeTrackerStore(store)


async def statuses(folder: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    tracker_store = unreachable_tracker_store(folder)
    failures: dict[str, Exception | None] = {**FAILURES, "tracker database": None}
    for name, failure in failures.items():

        async def on_new_message(
            message: UserMessage, failure: Exception | None = failure, name: str = name
        ) -> None:
            if failure is not None:
                raise failure
            if name == "tracker database":  # as Rasa's processor does: read, answer, save
                tracker = await tracker_store.retrieve(message.sender_id)
                assert tracker is None, "the fail-safe wrapper hides the error"
                await tracker_store.save(DialogueStateTracker(message.sender_id, []))
            await message.output_channel.send_text_message(message.sender_id, "ok")

        blueprint = SportelloInput().blueprint(on_new_message)
        (webhook,) = [route.handler for route in blueprint._future_routes if route.uri == "/webhook"]
        answer = await webhook(PostedJson({"sender": "telegram:1", "message": "ciao"}))
        found[name] = answer.status
    return found


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(asyncio.run(statuses(Path(folder)))), file=sys.stdout)
