"""The gateway's limiters, built on one store: Redis when ``SPORTELLO_REDIS_URL`` is set (several
gateways then share every bucket), each gateway's memory otherwise."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.adapters.limits import MemoryRateLimiter, RedisOutage, RedisRateLimiter, redis_client
from bot.core.ports import RateLimiter
from bot.core.settings import Settings
from bot.web.keys import ChatLimits

NOTICES_PER_MINUTE = 1.0  # "you are writing too fast": once a minute at most, however fast the flood
ALERTS_PER_MINUTE = 1 / 60  # a city's burst alert: once an hour at most


def gateway_limits(app: web.Application, settings: Settings) -> ChatLimits:
    """Every limiter of the gateway; a Redis client is closed with the app."""
    make: Callable[[str, float, float | None], RateLimiter]
    if settings.redis_url:
        client, outage = redis_client(settings.redis_url), RedisOutage()

        async def close(_: web.Application) -> None:
            await client.aclose()

        app.on_cleanup.append(close)

        def make(name: str, per_minute: float, burst: float | None) -> RateLimiter:
            prefix = f"{settings.redis_prefix}{name}:"
            return RedisRateLimiter(client, per_minute, burst, prefix=prefix, outage=outage)
    else:

        def make(name: str, per_minute: float, burst: float | None) -> RateLimiter:
            return MemoryRateLimiter(per_minute, burst)

    return ChatLimits(
        session=make("session", settings.chat_per_minute, None),
        address=make("address", settings.chat_per_minute_per_address, None),
        user=make("user", settings.messages_per_minute, None),
        notice=make("notice", NOTICES_PER_MINUTE, 1),
        city_alert=make("city-alert", ALERTS_PER_MINUTE, 1),
    )
