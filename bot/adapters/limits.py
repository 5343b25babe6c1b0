"""Rate limits in memory: a token bucket per key (a web-chat session, an IP address).

One gateway process: memory is enough. With several gateways the same ``RateLimiter`` port gets a
Redis adapter, so that a client cannot multiply its allowance by the number of gateways.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

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

    def allow(self, key: str) -> float | None:
        """None when the request may go; otherwise the seconds to wait before the next one."""
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
