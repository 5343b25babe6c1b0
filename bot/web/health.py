"""``/healthz`` (is this gateway working, or should it be restarted?) and ``/readyz`` (may a load
balancer send it traffic now?).

Healthy: every worker runs and beats, the database answers, and the engine (Rasa and its action server)
has not been unreachable for more than a minute: a short outage is covered by the inbox, which answers
later. Ready: the same, with the engine reachable right now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.messaging.supervisor import Supervisor

PROBE_TIMEOUT_SECONDS = 2.0
ENGINE_GRACE_SECONDS = 60.0


@dataclass
class Probe:
    """One dependency reached over HTTP, and since when it has been failing."""

    name: str
    url: str
    down_since: float | None = None


@dataclass
class HealthCheck:
    supervisor: Supervisor
    database: AsyncEngine
    http: aiohttp.ClientSession
    engine: list[Probe]
    clock: Callable[[], float] = time.monotonic
    grace: float = ENGINE_GRACE_SECONDS
    _timeout: aiohttp.ClientTimeout = field(
        default_factory=lambda: aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
    )

    async def problems(self, ready: bool = False) -> list[str]:
        """Empty when all is well; otherwise one line per problem, for the operator (no user data)."""
        found = self.supervisor.problems()
        if not await self._database_answers():
            found.append("database unreachable")
        now = self.clock()
        for probe in self.engine:
            if await self._answers(probe.url):
                probe.down_since = None
                continue
            probe.down_since = probe.down_since if probe.down_since is not None else now
            down_for = now - probe.down_since
            if ready or down_for > self.grace:
                found.append(f"{probe.name} unreachable for {down_for:.0f} s")
        return found

    async def _database_answers(self) -> bool:
        try:
            await asyncio.wait_for(self._select_one(), PROBE_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - any failure to answer is the answer: unreachable
            return False
        return True

    async def _select_one(self) -> None:
        async with self.database.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def _answers(self, url: str) -> bool:
        try:
            async with self.http.get(url, timeout=self._timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


HEALTH = web.AppKey("health", HealthCheck)


async def healthz(request: web.Request) -> web.Response:
    return await _answer(request, ready=False)


async def readyz(request: web.Request) -> web.Response:
    return await _answer(request, ready=True)


async def _answer(request: web.Request, ready: bool) -> web.Response:
    check = request.app.get(HEALTH)
    if check is None:  # still starting, or stopping
        return web.json_response({"status": "starting", "problems": ["not started"]}, status=503)
    problems = await check.problems(ready=ready)
    if problems:
        return web.json_response({"status": "unhealthy", "problems": problems}, status=503)
    return web.json_response({"status": "ready" if ready else "ok"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
