"""Keeps the gateway's background workers alive and says when one is not.

A worker is a coroutine that loops forever (the inbox worker, the sender, retention, Telegram polling).
A bare task that raises is gone for good while the webhooks keep storing messages nobody answers; under
the supervisor it is restarted with backoff, and ``/healthz`` reports a worker that is waiting to be
restarted or that stopped beating (stuck on something that never returns).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
STEADY_SECONDS = 60.0  # a worker that ran this long without failing starts its backoff from the start


@dataclass
class Heartbeat:
    """What a worker calls on every round of its loop: the supervisor's sign that it is not stuck."""

    clock: Callable[[], float] = time.monotonic
    last: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def beat(self) -> None:
        self.last = self.clock()


Job = Callable[[Heartbeat], Awaitable[None]]


@dataclass
class Worker:
    """One supervised worker and what is known about it."""

    name: str
    job: Job
    stall_after: float | None  # seconds without a beat that mean "stuck"; None: never checked
    heartbeat: Heartbeat
    running: bool = False
    restarts: int = 0
    last_error: str = ""
    task: asyncio.Task[None] | None = None


class Supervisor:
    """Runs workers; restarts one that raises, after 1, 2, 5, 10, 30 s (reset after a steady minute)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
    ) -> None:
        self._clock = clock
        self._backoff = backoff
        self.workers: dict[str, Worker] = {}

    def add(self, name: str, job: Job, stall_after: float | None = 60.0) -> None:
        self.workers[name] = Worker(name, job, stall_after, Heartbeat(self._clock))

    def start(self) -> None:
        for worker in self.workers.values():
            worker.task = asyncio.create_task(self._keep_running(worker), name=f"worker:{worker.name}")

    async def stop(self) -> None:
        tasks = [w.task for w in self.workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def problems(self) -> list[str]:
        """Why the gateway is not healthy, one line per worker in trouble; empty when all are well."""
        now = self._clock()
        found = []
        for worker in self.workers.values():
            if not worker.running:
                found.append(f"worker {worker.name} is down ({worker.last_error or 'not started'})")
            elif worker.stall_after is not None and now - worker.heartbeat.last > worker.stall_after:
                found.append(f"worker {worker.name} is stalled ({now - worker.heartbeat.last:.0f} s silent)")
        return found

    async def _keep_running(self, worker: Worker) -> None:
        failures = 0
        while True:
            started = self._clock()
            worker.heartbeat.beat()
            worker.running = True
            try:
                await worker.job(worker.heartbeat)
                error = "returned"
            except asyncio.CancelledError:
                worker.running = False
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: the worker must come back, not vanish
                error = where(exc)
            worker.running = False
            worker.last_error = error
            worker.restarts += 1
            failures = 0 if self._clock() - started >= STEADY_SECONDS else failures + 1
            delay = self._backoff[min(max(failures - 1, 0), len(self._backoff) - 1)]
            log.error("worker %s stopped (%s); restarting in %g s", worker.name, error, delay)
            await asyncio.sleep(delay)


def where(exc: BaseException) -> str:
    """The error's type and the line that raised it: enough to find the bug, and unlike the message
    (which may quote a user's text) safe to log."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}"
