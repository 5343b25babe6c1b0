"""What clients send, made safe: text without lone surrogates or control characters, JSON with a depth."""

from __future__ import annotations

import json

import pytest

from bot.core.messages import InboundMessage
from bot.core.text import MAX_JSON_DEPTH, UnsafeJson, clean_text, load_json


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ciao\ud800", "ciao"),  # a lone surrogate crashed the e5 featurizer inside Rasa
        ("a\x00b", "ab"),  # PostgreSQL refuses NUL in text
        ("riga 1\nriga 2\tfine\r", "riga 1\nriga 2\tfine"),
        ("\x1b[31mrosso\x07", "[31mrosso"),
        ("مرحبا 👋 你好 বাংলা", "مرحبا 👋 你好 বাংলা"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_every_inbound_message_is_cleaned_whatever_its_channel() -> None:
    message = InboundMessage("webchat", "browser\ud800", "Buongiorno\x00\ud83d")
    assert (message.text, message.user) == ("Buongiorno", "browser")


def test_json_deeper_than_the_limit_or_than_the_parser_is_refused() -> None:
    assert load_json(json.dumps({"a": [[[1]]]})) == {"a": [[[1]]]}
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(at_limit) is not None
    for body in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "[" * 100_000 + "]" * 100_000):
        with pytest.raises(UnsafeJson):
            load_json(body)
    for body in (b"\xff\xfe", b"{", b""):
        with pytest.raises(UnsafeJson):
            load_json(body)
