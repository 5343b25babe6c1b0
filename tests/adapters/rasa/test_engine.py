"""The Rasa client against a local fake of Rasa's REST channel and HTTP API (its wire format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.rasa.engine import RasaEngine, understanding
from bot.core.errors import EngineUnavailable
from bot.core.messages import Understanding
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app

TOKEN = "s3cret"


def parser(text: str) -> dict[str, Any]:
    urgent = (
        [{"entity": "urgency", "value": "eviction", "start": 0, "end": len(text)}] if "lock" in text else []
    )
    return {"text": text, "intent": {"name": "rental_contract", "confidence": 0.61}, "entities": urgent}


@pytest.fixture()
async def rasa() -> AsyncIterator[str]:
    server = TestServer(fake_rasa_app(echo_responder, [], parser, token=TOKEN))
    await server.start_server()
    yield str(server.make_url("/"))
    await server.close()


async def test_understand_reads_intent_and_urgency_without_a_conversation(rasa: str) -> None:
    async with aiohttp.ClientSession() as session:
        engine = RasaEngine(session, rasa, timeout=5, token=TOKEN)
        assert await engine.understand("the owner changed the lock") == Understanding(
            "rental_contract", 0.61, "eviction"
        )
        assert (await engine.understand("my contract")).urgency is None


async def test_understand_with_a_wrong_token_is_an_engine_error(rasa: str) -> None:
    async with aiohttp.ClientSession() as session:
        engine = RasaEngine(session, rasa, timeout=5, token="wrong")
        with pytest.raises(EngineUnavailable, match="401"):
            await engine.understand("hello")


async def test_understand_when_rasa_is_not_there_is_an_engine_error() -> None:
    async with aiohttp.ClientSession() as session:
        engine = RasaEngine(session, "http://127.0.0.1:9", timeout=2, token=TOKEN)
        with pytest.raises(EngineUnavailable):
            await engine.understand("hello")


@pytest.mark.parametrize(
    "parsed",
    [
        None,
        [],
        "x",
        {"intent": "greet"},
        {"intent": {"confidence": "high"}},
        {"entities": [None, 3, {"entity": 1}]},
    ],
)
def test_a_strange_parse_answer_means_nothing_understood(parsed: Any) -> None:
    got = understanding(parsed)
    assert got.urgency is None and got.confidence == 0.0
