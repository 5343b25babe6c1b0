"""The ``Translator`` port on a self-hosted LibreTranslate server (https://libretranslate.com/docs).

``POST /translate`` takes ``q`` (a string or a list of strings), ``source``, ``target``, ``format`` and an
optional ``api_key``, and answers ``{"translatedText": ...}`` in the same shape as ``q``; ``GET
/languages`` lists the codes the server has installed. Our codes are LibreTranslate's, except that recent
servers call Chinese ``zh-Hans``: the server's own list decides. No text is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.core.errors import TranslationUnavailable

log = logging.getLogger(__name__)
MAX_TEXTS = 100  # one request; a ticket page never shows more entries than this at once


class LibreTranslate:
    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, api_key: str = "", timeout: float = 10.0
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._codes: dict[str, str] | None = None

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        if source == target:
            return list(texts)
        codes = await self._server_codes()
        if source not in codes or target not in codes:
            raise TranslationUnavailable(f"the translation server has no {source}->{target}")
        translated: list[str] = []
        for start in range(0, len(texts), MAX_TEXTS):
            batch = texts[start : start + MAX_TEXTS]
            translated += await self._translate(batch, codes[source], codes[target])
        return translated

    async def _translate(self, texts: list[str], source: str, target: str) -> list[str]:
        body: dict[str, Any] = {"q": texts, "source": source, "target": target, "format": "text"}
        if self._api_key:
            body["api_key"] = self._api_key
        answer = await self._call("POST", "/translate", body)
        result = answer.get("translatedText") if isinstance(answer, dict) else None
        if (
            not isinstance(result, list)
            or len(result) != len(texts)
            or not all(isinstance(t, str) for t in result)
        ):
            raise TranslationUnavailable("the translation server answered in an unexpected shape")
        return result

    async def _server_codes(self) -> dict[str, str]:
        """Our language code -> the server's (asked once; ``zh`` may be ``zh-Hans`` there)."""
        if self._codes is None:
            answer = await self._call("GET", "/languages", None)
            listed = (
                [item.get("code") for item in answer if isinstance(item, dict)]
                if isinstance(answer, list)
                else []
            )
            codes = {code for code in listed if isinstance(code, str)}
            found = {code: code for code in codes}
            for code in codes:
                ours = code.split("-")[0]
                if code.endswith("-Hans") or ours not in found:
                    found[ours] = code
            self._codes = found
        return self._codes

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        try:
            async with self._http.request(
                method, self._base + path, json=body, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    log.warning("translation server: %s %s answered %s", method, path, response.status)
                    raise TranslationUnavailable(f"the translation server answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.warning("translation server: %s %s failed: %s", method, path, type(exc).__name__)
            raise TranslationUnavailable("the translation server did not answer") from None
