"""Rasa's SQL tracker store, keeping a turn's cost independent of how long the conversation is.

Rasa's own store reads and replays every event of the session on every turn, and the policies then
read the whole history: a user who writes for months gets slower every week (measured: 88 ms a turn
at the start of a conversation, 1,284 ms by turn 500). Our dialogue needs the slots and the last few
turns only (the flows are functions of the slots and the latest intent; RulePolicy looks a few events
back). So the tracker is rebuilt from the last ``window`` events of the session, after the latest
value of every slot set before them: two indexed queries, whatever the length of the conversation.

Saving must then not rely on Rasa's count ("the events past the number already stored"), which a window
breaks: the events newer than the latest stored one are the new ones.

A database that does not answer (PostgreSQL restarting) is noted in ``STORE_FAILURES``: Rasa's fail-safe
wrapper would answer from an empty tracker and keep the turn in memory only, so our channel answers 503
instead, and the gateway sends the message again once the database is back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

DEFAULT_WINDOW = 50  # events: the last few turns (every rule of ours is one intent -> one action)
# the database not answering (a restart, the network): not the message's fault
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, OSError)
# set by the channel around one message: the errors of type UNREACHABLE met while it was worked
STORE_FAILURES: ContextVar[list[str] | None] = ContextVar("sportello_store_failures", default=None)


def note_unreachable(exc: BaseException) -> None:
    failures = STORE_FAILURES.get()
    if failures is not None:
        failures.append(type(exc).__name__)


def windowed(store: Any) -> WindowedSQLTrackerStore | None:
    """Our store inside Rasa's wrappers (fail-safe, awaitable), if that is the one configured."""
    for _ in range(5):
        if isinstance(store, WindowedSQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Domain | None = None, window: int = DEFAULT_WINDOW, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.window = int(window)
        # an error's message and traceback never carry the values (users' texts, sender ids)
        self.engine.hide_parameters = True

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve(sender_id)
        except UNREACHABLE as exc:
            note_unreachable(exc)
            raise

    def may_have_seen(self, sender_id: str, message_id: str) -> bool:
        """Whether a user message with this id may be among the sender's last ``window`` events: one
        query of plain rows, so that checking every message for a replay (the REST channel) does not
        rebuild a tracker each time. False means certainly not; True means look at the tracker.
        An unreachable database is noted (the channel answers 503) and answered True."""
        try:
            with self.session_scope() as session:
                rows = session.execute(
                    sa.select(self.SQLEvent.type_name, self.SQLEvent.data)
                    .where(self.SQLEvent.sender_id == sender_id)
                    .order_by(self.SQLEvent.id.desc())
                    .limit(self.window)
                ).all()
        except UNREACHABLE as exc:
            note_unreachable(exc)
            return True
        return any(
            json.loads(data).get("message_id") == message_id
            for type_name, data in rows
            if type_name == UserUttered.type_name and message_id in data
        )

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:  # the HTTP API's full history: no window
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            events = self._window(session, sender_id)
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots, self.window)
        remember_newest_stored(tracker, events[-1].get("timestamp"))
        return tracker

    def _window(self, session: Any, sender_id: str) -> list[dict[str, Any]]:
        """The session's last ``window`` events, after the latest value of every slot set before them:
        what the dialogue needs, read with two indexed queries however long the conversation is (one
        while the session is shorter than the window). Columns, not ORM objects: a turn reads 50 rows."""
        events = self.SQLEvent
        session_start = (
            sa.select(sa.func.max(events.timestamp))
            .where(events.sender_id == sender_id, events.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        recent = session.execute(
            sa.select(events.id, events.data)
            .where(
                events.sender_id == sender_id,
                sa.or_(events.timestamp >= session_start, session_start.is_(None)),
            )
            .order_by(events.id.desc())
            .limit(self.window)
        ).all()
        if len(recent) < self.window:  # the whole session: its start resets every slot before it
            return [json.loads(data) for _, data in reversed(recent)]
        latest_of_each = (
            sa.select(sa.func.max(events.id))
            .where(
                events.sender_id == sender_id,
                events.type_name == SlotSet.type_name,
                events.id < recent[-1].id,
            )
            .group_by(events.action_name)  # Rasa stores a slot event's slot name there
        )
        earlier_slots = session.execute(
            sa.select(events.data).where(events.id.in_(latest_of_each)).order_by(events.id)
        ).all()
        return [json.loads(data) for (data,) in earlier_slots] + [
            json.loads(data) for _, data in reversed(recent)
        ]

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._save(tracker)
        except UNREACHABLE as exc:
            note_unreachable(exc)
            raise

    async def _save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``save`` with one INSERT of plain rows instead of an ORM object per event."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new = self._additional_events(session, tracker)
            rows = [self._row(tracker.sender_id, event) for event in new]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()
        if rows:
            remember_newest_stored(tracker, rows[-1]["timestamp"])

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events newer than the newest one stored for this sender: known without a query
        for a tracker this store read or saved (the conversation's lock keeps other servers out meanwhile),
        asked of the database for any other (a tracker the HTTP API built)."""
        newest = getattr(tracker, NEWEST_STORED, MISSING)
        if newest is MISSING:
            newest = (
                session.query(sa.func.max(self.SQLEvent.timestamp))
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .scalar()
            )
        if newest is None:
            return iter(list(tracker.events))
        return (event for event in list(tracker.events) if event.timestamp > newest)


NEWEST_STORED = "_sportello_newest_stored"  # on a tracker: the timestamp of its newest stored event
MISSING = object()


def remember_newest_stored(tracker: DialogueStateTracker, timestamp: float | None) -> None:
    setattr(tracker, NEWEST_STORED, timestamp)
