"""Run by test_tracker_store.py in Rasa's own environment (.venv-rasa): exercises WindowedSQLTrackerStore
on a SQLite file with Rasa's real tracker, events and domain classes, and prints what it found as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_components.tracker_store import WindowedSQLTrackerStore, windowed

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
    await store.save(tracker)  # saved again, unchanged: nothing new to store
    saved_twice = store.engine.execute("select count(*) from events").scalar()
    full = await store.retrieve_full_tracker("telegram:1")
    # a tracker the store did not read (the HTTP API builds one): only what the database lacks is stored
    rebuilt = DialogueStateTracker.from_events("telegram:1", [*full.events, BotUttered("one more")])
    await store.save(rebuilt)
    after_rebuilt = store.engine.execute("select count(*) from events").scalar()
    # a new session, shorter than the window: its start resets the slots, the carried-over one is back
    starting = await store.retrieve("telegram:1")
    for event in [SessionStarted(), SlotSet("last_topic", "tax_code"), *turn(60)]:
        starting.update(event)
    await store.save(starting)
    new_session = await store.retrieve("telegram:1")
    wrapped = FailSafeTrackerStore(AwaitableTrackerStore(store))  # as Rasa's agent holds it
    print(
        json.dumps(
            {
                "events_in_tracker": len(tracker.events),
                "slots": {name: tracker.get_slot(name) for name in ("awaiting", "last_topic")},
                "latest_text": tracker.latest_message.text,
                "stored": stored,
                "full_history": len(full.events),
                "user_ids": [e.message_id for e in full.events if isinstance(e, UserUttered)],
                "saved_twice": saved_twice,
                "after_rebuilt": after_rebuilt,
                "new_session_events": len(new_session.events),
                "new_session_slots": {n: new_session.get_slot(n) for n in ("awaiting", "last_topic")},
                "new_session_text": new_session.latest_message.text,
                "found_inside_wrappers": windowed(wrapped) is store,
                "seen": [store.may_have_seen("telegram:1", i) for i in ("60", "57", "55", "999")],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
