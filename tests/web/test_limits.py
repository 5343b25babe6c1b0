"""The gateway's limiters: with ``SPORTELLO_REDIS_URL`` two gateways count one client together (the local
Redis, 127.0.0.1:6379, under a prefix of the test's own); with Redis away, the gateway still answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.exceptions import RedisError

from bot.adapters.limits import MemoryRateLimiter, RedisRateLimiter, redis_client
from bot.core.settings import load_settings
from bot.web.app import create_app
from bot.web.keys import CHAT_LIMITS
from bot.web.limits import gateway_limits
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture()
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the local Redis; its keys are deleted afterwards."""
    client = redis_client(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    name = f"sportello-test:{uuid.uuid4().hex}:"
    yield name
    keys = [key async for key in client.scan_iter(match=f"{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def test_without_a_redis_url_each_gateway_counts_in_memory() -> None:
    limits = gateway_limits(web.Application(), load_settings(_env_file=None))
    assert all(isinstance(limiter, MemoryRateLimiter) for limiter in vars(limits).values())


async def test_two_gateways_on_one_redis_count_one_address_together(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any, prefix: str
) -> None:
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, []))
    gateways = []
    for number in range(2):
        settings = load_settings(
            SPORTELLO_DATA_DIR=tmp_path / str(number),
            SPORTELLO_RASA_URL=str(rasa.make_url("")),
            SPORTELLO_CHAT_PER_MINUTE_PER_ADDRESS=3,
            SPORTELLO_REDIS_URL=REDIS_URL,
            SPORTELLO_REDIS_PREFIX=prefix,
        )
        app = create_app(settings)
        gateways.append(await aiohttp_client(app))
    assert all(isinstance(limiter, RedisRateLimiter) for limiter in vars(app[CHAT_LIMITS]).values())
    one, two = gateways
    statuses = [(await client.post("/api/chat", json={"text": "ciao"})).status for client in (one, two, one)]
    assert statuses == [200, 200, 200]
    refused = await two.post("/api/chat", json={"text": "ciao"})
    assert refused.status == 429, "the second gateway counts what the first let through"


async def test_with_redis_away_the_gateway_answers_and_still_limits(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, []))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path,
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_CHAT_PER_MINUTE=2,
        SPORTELLO_REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
    )
    client = await aiohttp_client(create_app(settings))
    statuses = [(await client.post("/api/chat", json={"text": "ciao"})).status for _ in range(3)]
    assert statuses == [200, 200, 429], "never a 500: the gateway's memory counts meanwhile"
