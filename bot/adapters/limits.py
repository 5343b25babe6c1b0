"""Rate limits: a token bucket per key (a web-chat session, an IP address, a user, a city).

One gateway process: memory is enough (``MemoryRateLimiter``). With several gateways the buckets live in
Redis (``RedisRateLimiter``), so that a client cannot multiply its allowance by the number of gateways.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
MAX_KEYS = 50_000  # keys remembered at once; the least recently seen go first


class MemoryRateLimiter:
    """``per_minute`` requests a minute per key, in bursts of at most ``burst``."""

    def __init__(
        self,
        per_minute: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else per_minute
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    async def allow(self, key: str) -> float | None:
        """None when the request may go; otherwise the seconds to wait before the next one. Nothing
        here awaits, so one bucket is never read and written by two requests at once."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._remember(key, tokens - 1, now)
            return None
        self._remember(key, tokens, now)
        return (1 - tokens) / self.rate

    def _remember(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)


# One atomic step of a token bucket: refill by the time since the last request, take a token if there is
# one, remember (tokens, at) with an expiry (a full bucket is the same as no key). Redis runs a script
# alone, so gateways sharing a bucket never both take its last token. The wait is returned as a string:
# Redis would truncate a Lua number to an integer. ARGV: rate (tokens/s), burst, now ("" = Redis's clock).
TOKEN_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""
RETRY_REDIS_AFTER = 5.0  # seconds on the memory buckets after Redis failed, before trying it again


def redis_client(url: str, timeout: float = 0.5) -> Redis:
    """A client that gives up quickly and does not retry: a limit check must never hold a request for
    long (the memory bucket answers instead)."""
    return Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


@dataclass
class RedisOutage:
    """Shared by the limiters on one client: one log line per outage, and one timeout per retry period
    rather than one per limiter and request."""

    until: float = 0.0  # monotonic time before which Redis is not tried
    down: bool = False

    def failed(self, error: Exception) -> None:
        self.until = time.monotonic() + RETRY_REDIS_AFTER
        if not self.down:
            self.down = True
            log.warning("rate limits: Redis unreachable (%s), counting in memory", type(error).__name__)

    def recovered(self) -> None:
        if self.down:
            self.down = False
            log.info("rate limits: Redis is back")


class RedisRateLimiter:
    """``MemoryRateLimiter``'s buckets in Redis, shared by every gateway on the same server and prefix.

    Keys are ``<prefix><hash of the key>`` (no phone number or address in Redis) and expire once the
    bucket would be full again. When Redis fails (down, slow, refusing), the request is counted in this
    gateway's memory bucket instead and Redis is tried again a few seconds later: the limit still holds
    per gateway, and a user never gets a 500 or a lock-out because a counter is away.
    """

    def __init__(
        self,
        client: Redis,
        per_minute: float,
        burst: float | None = None,
        prefix: str = "sportello:limits:",
        clock: Callable[[], float] | None = None,
        outage: RedisOutage | None = None,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else per_minute
        self.prefix = prefix
        self._client = client
        self._script = client.register_script(TOKEN_BUCKET)
        self._clock = clock  # None: Redis's own clock, the same for every gateway
        self._outage = outage or RedisOutage()
        self._fallback = MemoryRateLimiter(per_minute, burst)

    def key(self, key: str) -> str:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
        return f"{self.prefix}{digest}"

    async def allow(self, key: str) -> float | None:
        """None when the request may go; otherwise the seconds to wait before the next one."""
        if time.monotonic() < self._outage.until:
            return await self._fallback.allow(key)
        now = "" if self._clock is None else repr(self._clock())
        try:
            wait = float(await self._script(keys=[self.key(key)], args=[self.rate, self.burst, now]))
        except (RedisError, OSError) as error:
            self._outage.failed(error)
            return await self._fallback.allow(key)
        self._outage.recovered()
        return wait if wait > 0 else None
