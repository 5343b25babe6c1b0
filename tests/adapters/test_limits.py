"""The token bucket: a burst, then one request per period; memory bounded."""

from __future__ import annotations

from bot.adapters.limits import MemoryRateLimiter


def test_a_burst_then_the_rate_and_the_wait_it_says() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(per_minute=6, clock=lambda: now[0])  # a burst of 6, then one per 10 s
    assert [limiter.allow("s") for _ in range(6)] == [None] * 6
    wait = limiter.allow("s")
    assert wait is not None and 9.9 < wait <= 10.0
    assert limiter.allow("another") is None, "each key has its own bucket"
    now[0] = 10.0
    assert limiter.allow("s") is None and limiter.allow("s") is not None


def test_memory_is_bounded() -> None:
    limiter = MemoryRateLimiter(per_minute=1, max_keys=100)
    for index in range(10_000):
        limiter.allow(f"address-{index}")
    assert len(limiter._buckets) == 100
