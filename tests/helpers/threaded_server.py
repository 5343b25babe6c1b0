"""Run an aiohttp app (a fake platform) in a thread, so that a gateway in another process can call it
while synchronous tests drive the conversation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from bot.ops.processes import free_port

T = TypeVar("T")


class ThreadedServer:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner = web.AppRunner(app)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self, timeout: float = 10) -> ThreadedServer:
        """Serve, once the app has started (a whole gateway migrates its database first: give it time)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(f"the server on port {self.port} did not start within {timeout} s")
        return self

    def call(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the server's loop (where the fake's state lives) and wait for it."""
        return asyncio.run_coroutine_threadsafe(factory(), self._loop).result(30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
