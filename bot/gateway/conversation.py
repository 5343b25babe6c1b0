"""One message in, the assistant's replies out: language, profile, Rasa, and what Rasa decided.

Channels (web chat now; Telegram and WhatsApp later) turn their input into an ``InboundMessage`` and
render the ``ChatResult`` for their own limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.catalog import Catalog
from bot.channels.base import InboundMessage
from bot.detection import LanguagePolicy
from bot.dialogue.turn import CONTROL_KEY, Button, Reply
from bot.errors import InvalidMessage
from bot.gateway.engine import Engine
from bot.languages import LANGUAGES
from bot.profiles import Profile, ProfileStore


@dataclass
class ChatResult:
    language: str
    topic: str | None = None
    replies: list[Reply] = field(default_factory=list)


class Conversations:
    """Routes each message: detects the language, asks Rasa, remembers what the turn decided."""

    def __init__(
        self, engine: Engine, profiles: ProfileStore, policy: LanguagePolicy, catalog: Catalog
    ) -> None:
        self.engine = engine
        self.profiles = profiles
        self.policy = policy
        self.catalog = catalog

    async def language_for(self, message: InboundMessage) -> str:
        """The language this message should be answered in (saving an explicit choice)."""
        profile = await self.profiles.get(message.user_key)
        return self._decide_language(profile, message)

    def _decide_language(self, profile: Profile, message: InboundMessage) -> str:
        if message.language:
            return message.language
        if message.is_payload:
            return profile.language or self.policy.default
        return self.policy.decide(
            message.text, profile.language, profile.language_pinned, message.language_hint
        )

    def _validate(self, message: InboundMessage) -> None:
        if message.language is not None and message.language not in LANGUAGES:
            raise InvalidMessage(f"unknown language '{message.language}'")
        if message.city is not None and message.city not in self.catalog.cities:
            raise InvalidMessage(f"unknown city '{message.city}'")

    async def handle(self, message: InboundMessage) -> ChatResult:
        self._validate(message)
        profile = await self.profiles.get(message.user_key)
        language = self._decide_language(profile, message)
        pinned = profile.language_pinned or message.language is not None
        city = message.city or profile.city
        metadata = {"language": language, "city": city, "channel": message.channel}
        raw = await self.engine.send(message.user_key, message.text, metadata)
        result = ChatResult(language=language)
        for item in raw:
            control = (item.get("custom") or {}).get(CONTROL_KEY)
            if isinstance(control, dict):
                result.topic = control.get("topic") or result.topic
                city = control.get("city") or city
                if control.get("language") in LANGUAGES:
                    result.language, pinned = control["language"], True
            elif item.get("text"):
                result.replies.append(_reply(item))
        await self.profiles.save(
            profile.with_changes(language=result.language, language_pinned=pinned, city=city)
        )
        return result


def _reply(item: dict[str, Any]) -> Reply:
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if b.get("payload")
    )
    return Reply(str(item["text"]), buttons)
