"""Client of the Rasa server (REST channel). Rasa is reached on localhost only."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.core.errors import EngineUnavailable
from bot.core.messages import Understanding

log = logging.getLogger(__name__)


class RasaEngine:
    """Sends one user message to Rasa and returns Rasa's messages (text, buttons, custom)."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, timeout: float, token: str = ""
    ) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self._parse_url = f"{base_url.rstrip('/')}/model/parse"
        self._token = token
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

    async def understand(self, text: str) -> Understanding:
        """Rasa's /model/parse (the HTTP API, token-protected): no tracker is read or written."""
        try:
            async with self._session.post(
                self._parse_url, json={"text": text}, params={"token": self._token}, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise EngineUnavailable(f"Rasa's parse answered HTTP {response.status}")
                parsed = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa unreachable: {type(exc).__name__}") from exc
        return understanding(parsed)


def understanding(parsed: Any) -> Understanding:
    """Intent, confidence and the urgency entity out of a parse result (anything else: nothing known)."""
    if not isinstance(parsed, dict):
        return Understanding()
    intent: dict[str, Any] = parsed["intent"] if isinstance(parsed.get("intent"), dict) else {}
    entities: list[Any] = parsed["entities"] if isinstance(parsed.get("entities"), list) else []
    urgency = next(
        (
            str(e["value"])
            for e in entities
            if isinstance(e, dict) and e.get("entity") == "urgency" and e.get("value")
        ),
        None,
    )
    name = intent.get("name")
    confidence = intent.get("confidence")
    return Understanding(
        intent=str(name) if name else None,
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
        urgency=urgency,
    )
