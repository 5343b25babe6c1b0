"""The bridge from Rasa to the dialogue: what an action reads of Rasa's tracker, and the control message
it sends back (here: the classifier's ranking, which a missed message carries to staff)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import intent_ranking, turn_context
from actions.conversation import ActionNotUnderstood
from bot.core.messages import CONTROL_KEY, Signals
from bot.core.overview import Miss, MissKind

FALLBACK = {
    "text": "boh dove si fa quella cosa",
    "intent": {"name": "nlu_fallback", "confidence": 0.4},
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "tax_code", "confidence": 0.33},
        {"name": "greet", "confidence": 0.2},
    ],
    "metadata": {"language": "it", "city": "caserta", "channel": "telegram"},
}


def tracker(message: dict[str, Any]) -> Tracker:
    return Tracker("telegram:1", {}, message, [], False, None, {}, "action_listen")


def test_the_ranking_is_read_best_first_and_odd_entries_are_skipped() -> None:
    assert turn_context(tracker(FALLBACK)).ranking == (
        ("nlu_fallback", 0.4),
        ("tax_code", 0.33),
        ("greet", 0.2),
    )
    assert intent_ranking({"intent_ranking": [{"confidence": 0.9}, "x", {"name": "deny"}]}) == (
        ("deny", 0.0),
    )
    assert intent_ranking({}) == ()


async def test_not_understood_tells_the_gateway_which_topic_was_closest() -> None:
    dispatcher = CollectingDispatcher()
    await ActionNotUnderstood().run(dispatcher, tracker(FALLBACK), {})
    [control] = [m["custom"][CONTROL_KEY] for m in dispatcher.messages if m.get("custom")]
    assert Signals.from_wire(control).missed == Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.33)
