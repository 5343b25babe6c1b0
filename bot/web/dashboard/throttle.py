"""Slows down password guessing: after a few failed logins for one e-mail, refuse for a while."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
MAX_TRACKED = 10_000  # e-mails remembered at once: a flood of made-up addresses cannot fill the memory


class LoginThrottle:
    """Per process, in memory; with several gateways each keeps its own count (noted in the README)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED) -> None:
        self._clock = clock
        self._max_tracked = max_tracked
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, email: str) -> deque[float]:
        key = email.casefold()
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque()
            while len(self._failures) > self._max_tracked:
                self._failures.popitem(last=False)  # the address that failed longest ago goes
        else:
            self._failures.move_to_end(key)
        while failures and self._clock() - failures[0] > WINDOW_SECONDS:
            failures.popleft()
        return failures

    def blocked(self, email: str) -> bool:
        return len(self._recent(email)) >= MAX_FAILURES

    def failed(self, email: str) -> None:
        self._recent(email).append(self._clock())

    def succeeded(self, email: str) -> None:
        self._failures.pop(email.casefold(), None)
