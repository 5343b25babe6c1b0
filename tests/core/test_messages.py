"""The values that cross the desk: user keys, payloads, and a turn's signals on the wire."""

from __future__ import annotations

import pytest

from bot.core.messages import HandoffRequest, InboundMessage, Signals, payload, split_user_key, user_key
from bot.core.overview import Miss, MissKind


def test_a_user_key_names_the_channel_and_splits_back() -> None:
    message = InboundMessage("whatsapp", "393331234567")
    assert message.user_key == user_key("whatsapp", "393331234567") == "whatsapp:393331234567"
    assert split_user_key("telegram:-100:2") == ("telegram", "-100:2")  # only the first colon splits


def test_payloads_are_rasa_syntax_without_spaces_and_keep_non_ascii() -> None:
    assert payload("menu") == "/menu"
    assert payload("choose_city", city="roma") == '/choose_city{"city":"roma"}'
    assert payload("choose_language", language="中文") == '/choose_language{"language":"中文"}'


@pytest.mark.parametrize(
    "signals",
    [
        Signals(),
        Signals(handoff=HandoffRequest()),
        Signals(handoff=HandoffRequest("eviction", urgent=True)),
        Signals(status=True),
        Signals(forget=True),
        Signals(missed=Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.31)),
        Signals(missed=Miss(MissKind.OUT_OF_SCOPE)),
    ],
)
def test_signals_survive_the_wire(signals: Signals) -> None:
    assert Signals.from_wire(signals.to_wire()) == signals


def test_a_malformed_control_message_means_no_signal() -> None:
    assert Signals.from_wire({"handoff": "yes", "topic": "tax_code"}) == Signals()
    assert Signals.from_wire({"handoff": {"topic": 42, "urgent": 1}}) == Signals(HandoffRequest(None, True))


def test_a_malformed_miss_is_no_miss() -> None:
    assert Signals.from_wire({"missed": {"kind": "whatever"}}).missed is None
    assert Signals.from_wire({"missed": "yes"}).missed is None
    odd = Signals.from_wire({"missed": {"kind": "no_answer", "topic": 3, "confidence": "high"}}).missed
    assert odd == Miss(MissKind.NO_ANSWER, None, 0.0)
