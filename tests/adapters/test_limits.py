"""The token bucket: a burst, then one request per period; memory bounded; in Redis, one bucket shared
by several gateways, and memory when Redis is away (tests against the local server, 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.adapters.limits import MemoryRateLimiter, RedisOutage, RedisRateLimiter, redis_client
from bot.core.ports import RateLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_a_burst_then_the_rate_and_the_wait_it_says() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(per_minute=6, clock=lambda: now[0])  # a burst of 6, then one per 10 s
    assert [await limiter.allow("s") for _ in range(6)] == [None] * 6
    wait = await limiter.allow("s")
    assert wait is not None and 9.9 < wait <= 10.0
    assert await limiter.allow("another") is None, "each key has its own bucket"
    now[0] = 10.0
    assert await limiter.allow("s") is None and await limiter.allow("s") is not None


async def test_memory_is_bounded() -> None:
    limiter = MemoryRateLimiter(per_minute=1, max_keys=100)
    for index in range(10_000):
        await limiter.allow(f"address-{index}")
    assert len(limiter._buckets) == 100


@pytest.fixture()
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    """The local Redis and a prefix of this test's own; its keys are deleted afterwards."""
    client = redis_client(REDIS_URL)
    prefix = f"sportello-test:{uuid.uuid4().hex}:"
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    yield client, prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_two_gateways_share_one_bucket_in_redis(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    one, two = (RedisRateLimiter(client, per_minute=6, prefix=prefix) for _ in range(2))
    allowed = [await limiter.allow("telegram:777") for limiter in (one, two, one, two, one, two)]
    assert allowed == [None] * 6
    wait = await two.allow("telegram:777")
    assert wait is not None and 0 < wait <= 10.0, "the second gateway sees what the first took"
    assert await one.allow("telegram:888") is None, "each key has its own bucket"


async def test_redis_buckets_refill_expire_and_keep_no_address(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    now = [1000.0]
    limiter = RedisRateLimiter(client, per_minute=6, prefix=prefix, clock=lambda: now[0])
    assert [await limiter.allow("whatsapp:393331234567") for _ in range(6)] == [None] * 6
    wait = await limiter.allow("whatsapp:393331234567")
    assert wait is not None and 9.9 < wait <= 10.0
    now[0] += 10.0
    assert await limiter.allow("whatsapp:393331234567") is None
    [key] = [key async for key in client.scan_iter(match=f"{prefix}*")]
    assert b"393331234567" not in key, "keys are hashed: no phone number in Redis"
    assert 0 < await client.pttl(key) <= 61_000, "a key lives until its bucket would be full again"


async def test_concurrent_requests_never_take_more_than_the_burst(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    limiters = [RedisRateLimiter(client, per_minute=10, prefix=prefix) for _ in range(4)]
    results = await asyncio.gather(*(limiters[i % 4].allow("session") for i in range(40)))
    assert results.count(None) == 10


async def test_redis_away_counts_in_memory_logs_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    outage = RedisOutage()
    limiters: list[RateLimiter] = [
        RedisRateLimiter(away, per_minute=3, outage=outage, prefix=name) for name in ("a:", "b:")
    ]
    with caplog.at_level(logging.WARNING, logger="bot.adapters.limits"):
        first = [await limiters[0].allow("s") for _ in range(4)]
        await limiters[1].allow("s")
    assert first[:3] == [None] * 3 and first[3] is not None, "the limit still holds, in this gateway"
    assert len([r for r in caplog.records if "Redis unreachable" in r.message]) == 1
    await away.aclose()
