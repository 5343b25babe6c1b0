"""The login throttle keeps a bounded memory: a flood of made-up e-mails cannot grow it without end."""

from __future__ import annotations

from bot.web.dashboard.throttle import MAX_FAILURES, LoginThrottle


def test_the_throttle_forgets_the_oldest_address_beyond_its_bound() -> None:
    throttle = LoginThrottle(clock=lambda: 0.0, max_tracked=3)
    for _ in range(MAX_FAILURES):
        throttle.failed("amal@example.org")
    for index in range(1_000):
        throttle.failed(f"guess{index}@example.org")
    assert len(throttle._failures) == 3
    assert not throttle.blocked("amal@example.org"), "forgotten: the bound is a trade-off the README states"
    for _ in range(MAX_FAILURES):
        throttle.failed("luca@example.org")
    assert throttle.blocked("luca@example.org"), "a recent attacker of one address is still held back"
