"""Slows down password guessing: after a few failed logins for one e-mail, refuse for a while."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, email: str) -> deque[float]:
        failures = self._failures[email.casefold()]
        while failures and self._clock() - failures[0] > WINDOW_SECONDS:
            failures.popleft()
        return failures

    def blocked(self, email: str) -> bool:
        return len(self._recent(email)) >= MAX_FAILURES

    def failed(self, email: str) -> None:
        self._recent(email).append(self._clock())

    def succeeded(self, email: str) -> None:
        self._failures.pop(email.casefold(), None)
