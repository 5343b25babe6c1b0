"""The bridge from Rasa to ``bot.dialogue``: one generic action class, no dialogue logic here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from bot.core.settings import load_settings
from bot.dialogue import flows
from bot.dialogue.desk import Desk, build_desk
from bot.dialogue.turn import Turn, TurnContext

log = logging.getLogger(__name__)
Flow = Callable[[Desk, TurnContext], Turn]
SLOTS = ("pending", "awaiting", "not_understood_count", "last_topic", "urgent")


@cache
def desk() -> Desk:
    """Built once per action-server process (from the same settings as the gateway's); knowledge files
    are still re-read when they change."""
    return build_desk(load_settings())


def turn_context(tracker: Tracker) -> TurnContext:
    """Language, city and channel come from the gateway as message metadata."""
    message = tracker.latest_message or {}
    metadata: dict[str, Any] = message.get("metadata") or {}
    language = metadata.get("language")
    entities = {
        str(e["entity"]): str(e["value"])
        for e in message.get("entities", [])
        if e.get("entity") and e.get("value") is not None
    }
    return TurnContext(
        language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
        city=metadata.get("city"),
        channel=str(metadata.get("channel", "webchat")),
        intent=(message.get("intent") or {}).get("name"),
        text=str(message.get("text") or ""),
        entities=entities,
        slots={name: tracker.get_slot(name) for name in SLOTS},
        ranking=intent_ranking(message),
    )


def intent_ranking(message: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """The classifier's ranking of the message (Rasa puts its fallback first, then the real guesses)."""
    ranking = message.get("intent_ranking") or []
    return tuple(
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in ranking
        if isinstance(item, dict) and item.get("name")
    )


def deliver(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    for reply in turn.replies:
        buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
        dispatcher.utter_message(text=reply.text, buttons=buttons)
    dispatcher.utter_message(json_message=turn.control())
    return [SlotSet(name, value) for name, value in turn.slots.items()]


class FlowAction(Action):  # type: ignore[misc]  # rasa-sdk ships no type information
    """A Rasa action that runs one dialogue flow. Subclasses only name the action and the flow."""

    action_name: str = ""

    @staticmethod
    def flow(desk: Desk, ctx: TurnContext) -> Turn:
        raise NotImplementedError

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return deliver(flows.respond(desk(), turn_context(tracker), self.flow), dispatcher)
