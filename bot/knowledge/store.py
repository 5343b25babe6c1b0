"""The running assistant's view of ``knowledge/``: re-read within seconds of a staff edit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.loader import KnowledgeBase, KnowledgeReader

log = logging.getLogger(__name__)


class KnowledgeStore:
    """Hands out the current ``KnowledgeBase``, looking for changed files at most every ``interval`` s.

    Staff edit files while the assistant runs; a file that breaks keeps serving its last good version.
    """

    def __init__(
        self,
        directory: Path,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = KnowledgeReader(directory, keep_last_good=True)
        self._interval = interval
        self._clock = clock
        self._signature = self._reader.signature()
        self._kb = self._load()
        self._checked_at = clock()

    def _load(self) -> KnowledgeBase:
        kb, problems = self._reader.read()
        for problem in problems:
            log.warning("knowledge: %s", problem)
        log.info(
            "knowledge loaded: %d topics, %d languages, %d cities",
            len(kb.facts),
            len(kb.texts),
            len(kb.cities),
        )
        return kb

    def current(self) -> KnowledgeBase:
        now = self._clock()
        if now - self._checked_at >= self._interval:
            self._checked_at = now
            signature = self._reader.signature()
            if signature != self._signature:
                self._signature = signature
                self._kb = self._load()
        return self._kb
