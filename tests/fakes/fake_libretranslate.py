"""A local LibreTranslate server with its real HTTP API (``/languages``, ``/translate``), for tests.

It translates from a phrase book the test gives (exact texts) and marks anything else as
``[target] text``, so a test can tell a translated text from an untranslated one. Every request is kept:
a test can assert that nothing was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# what a LibreTranslate 1.6 server with these models lists (Chinese as zh-Hans, as recent servers do)
LANGUAGE_CODES = ("ar", "bn", "en", "es", "fr", "it", "ro", "ru", "sq", "uk", "ur", "zh-Hans")


@dataclass
class FakeLibreTranslate:
    phrases: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (source, target, text)
    api_key: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    failing: bool = False

    def learn(self, source: str, target: str, text: str, translation: str) -> None:
        self.phrases[(source, target, text)] = translation

    def translated(self, source: str, target: str, text: str) -> str:
        return self.phrases.get((source, target, text), f"[{target}] {text}")

    async def languages(self, request: web.Request) -> web.Response:
        listed = [{"code": code, "name": code, "targets": list(LANGUAGE_CODES)} for code in LANGUAGE_CODES]
        return web.json_response(listed)

    async def translate(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "Invalid request: unable to parse JSON"}, status=400)
        self.requests.append(body)
        if self.failing:
            return web.json_response({"error": "Translation engine error"}, status=500)
        if self.api_key and body.get("api_key") != self.api_key:
            return web.json_response({"error": "Invalid API key"}, status=403)
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        for name, value in (("q", q), ("source", source), ("target", target)):
            if not value:
                return web.json_response({"error": f"Invalid request: missing {name} parameter"}, status=400)
        for code in (source, target):
            if code not in LANGUAGE_CODES and code != "auto":
                return web.json_response({"error": f"{code} is not supported"}, status=400)
        if isinstance(q, list):
            return web.json_response({"translatedText": [self.translated(source, target, t) for t in q]})
        return web.json_response({"translatedText": self.translated(source, target, str(q))})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/languages", self.languages)
        app.router.add_post("/translate", self.translate)
        return app
