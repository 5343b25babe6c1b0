"""Client of the Rasa server (REST channel). Rasa is reached on localhost only."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.core.errors import EngineUnavailable

log = logging.getLogger(__name__)


class RasaEngine:
    """Sends one user message to Rasa and returns Rasa's messages (text, buttons, custom)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, user_key: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        body = {"sender": user_key, "message": text, "metadata": metadata}
        try:
            async with self._session.post(self._url, json=body, timeout=self._timeout) as response:
                if response.status != 200:
                    raise EngineUnavailable(f"Rasa answered HTTP {response.status}")
                messages = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa unreachable: {type(exc).__name__}") from exc
        if not isinstance(messages, list) or not messages:
            # Every action of ours says something: silence means the action server failed.
            raise EngineUnavailable("Rasa returned no messages (action server down?)")
        return messages
