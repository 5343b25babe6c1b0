"""Run by test_tracker_store.py in Rasa's own environment (.venv-rasa): exercises WindowedSQLTrackerStore
on a SQLite file with Rasa's real tracker, events and domain classes, and prints what it found as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from rasa_components.tracker_store import WindowedSQLTrackerStore

DOMAIN = Domain.from_dict(
    {
        "intents": ["ask"],
        "slots": {
            "awaiting": {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]},
            "last_topic": {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]},
        },
    }
)


def turn(number: int) -> list:
    return [
        ActionExecuted("action_listen"),
        UserUttered(f"question {number}", {"name": "ask", "confidence": 1.0}, message_id=str(number)),
        ActionExecuted("action_answer"),
        BotUttered(f"answer {number}"),
    ]


async def main(path: str) -> None:
    store = WindowedSQLTrackerStore(DOMAIN, window=20, dialect="sqlite", db=path)
    tracker = store.init_tracker("telegram:1")
    tracker.update(SlotSet("last_topic", "tax_code"))  # set once, early: must survive the window
    for number in range(60):
        for event in turn(number):
            tracker.update(event)
        if number == 5:
            tracker.update(SlotSet("awaiting", "consent"))
        await store.save(tracker)
        tracker = await store.retrieve("telegram:1")
    stored = store.engine.execute("select count(*) from events").scalar()
    full = await store.retrieve_full_tracker("telegram:1")
    print(
        json.dumps(
            {
                "events_in_tracker": len(tracker.events),
                "slots": {name: tracker.get_slot(name) for name in ("awaiting", "last_topic")},
                "latest_text": tracker.latest_message.text,
                "stored": stored,
                "full_history": len(full.events),
                "user_ids": [e.message_id for e in full.events if isinstance(e, UserUttered)],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
