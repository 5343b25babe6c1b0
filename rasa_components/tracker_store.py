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
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_WINDOW = 50  # events: the last few turns (every rule of ours is one intent -> one action)
# the database not answering (a restart, the network): not the message's fault
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, OSError)
# set by the channel around one message: the errors of type UNREACHABLE met while it was worked
STORE_FAILURES: ContextVar[list[str] | None] = ContextVar("sportello_store_failures", default=None)


def note_unreachable(exc: BaseException) -> None:
    failures = STORE_FAILURES.get()
    if failures is not None:
        failures.append(type(exc).__name__)


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

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except UNREACHABLE as exc:
            note_unreachable(exc)
            raise

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:  # the HTTP API's full history: no window
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            events = self._window(session, sender_id)
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots, self.window)

    def _window(self, session: Any, sender_id: str) -> list[dict[str, Any]]:
        """The session's last ``window`` events, after the latest value of every slot set before them:
        what the dialogue needs, read with two indexed queries however long the conversation is."""
        session_events = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        recent = session_events.order_by(None).order_by(self.SQLEvent.id.desc()).limit(self.window).all()
        if not recent:
            return []
        first = recent[-1].id
        latest_of_each = (
            session.query(sa.func.max(self.SQLEvent.id))
            .filter(
                self.SQLEvent.sender_id == sender_id,
                self.SQLEvent.type_name == SlotSet.type_name,
                self.SQLEvent.id < first,
            )
            .group_by(self.SQLEvent.action_name)  # Rasa stores a slot event's slot name there
        )
        ids = [latest for (latest,) in latest_of_each.all()]
        earlier_slots = (
            session_events.filter(self.SQLEvent.id.in_(ids)).order_by(None).order_by(self.SQLEvent.id).all()
            if ids
            else []
        )
        return [json.loads(row.data) for row in [*earlier_slots, *reversed(recent)]]

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events newer than the newest one stored for this sender."""
        newest = (
            session.query(sa.func.max(self.SQLEvent.timestamp))
            .filter(self.SQLEvent.sender_id == tracker.sender_id)
            .scalar()
        )
        if newest is None:
            return iter(list(tracker.events))
        return (event for event in list(tracker.events) if event.timestamp > newest)
