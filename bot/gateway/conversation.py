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
from bot.errors import EngineUnavailable, InvalidMessage
from bot.gateway.engine import Engine
from bot.handoff import Handoff
from bot.languages import LANGUAGES
from bot.profiles import Profile, ProfileStore


@dataclass
class ChatResult:
    language: str
    topic: str | None = None
    replies: list[Reply] = field(default_factory=list)
    forgotten: bool = False  # the user's data was just erased: keep no trace of this turn either


class Conversations:
    """Routes each message: detects the language, asks Rasa, remembers what the turn decided."""

    def __init__(
        self,
        engine: Engine,
        profiles: ProfileStore,
        policy: LanguagePolicy,
        catalog: Catalog,
        handoff: Handoff | None = None,
    ) -> None:
        self.engine = engine
        self.profiles = profiles
        self.policy = policy
        self.catalog = catalog
        self.handoff = handoff

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
        if self.handoff is not None:
            if await self.handoff.to_mediator(message):
                return ChatResult(language=language)  # a mediator holds the conversation: bot quiet
            if profile.handoff_pending:
                return await self._open_ticket(message, profile, language)
        pinned = profile.language_pinned or message.language is not None
        city = message.city or profile.city
        metadata = {"language": language, "city": city, "channel": message.channel}
        try:
            raw = await self.engine.send(message.user_key, message.text, metadata)
        except EngineUnavailable as exc:
            exc.language = language
            raise
        result = ChatResult(language=language)
        signals: dict[str, Any] = {}
        for item in raw:
            control = (item.get("custom") or {}).get(CONTROL_KEY)
            if isinstance(control, dict):
                result.topic = control.get("topic") or result.topic
                city = control.get("city") or city
                if control.get("language") in LANGUAGES:
                    result.language, pinned = control["language"], True
                signals.update({k: control[k] for k in ("handoff", "status", "forget") if k in control})
            elif item.get("text"):
                result.replies.append(_reply(item))
        profile = profile.with_changes(language=result.language, language_pinned=pinned, city=city)
        return await self._after_turn(message, profile, result, signals)

    async def _after_turn(
        self, message: InboundMessage, profile: Profile, result: ChatResult, signals: dict[str, Any]
    ) -> ChatResult:
        handoff = signals.get("handoff")
        if isinstance(handoff, dict):
            profile = profile.with_changes(
                handoff_pending=True,
                handoff_topic=handoff.get("topic"),
                handoff_urgent=bool(handoff.get("urgent")),
            )
        await self.profiles.save(profile)
        if self.handoff is not None and signals.get("status"):
            result.replies += await self.handoff.status(message.user_key, result.language)
        if self.handoff is not None and signals.get("forget"):
            await self.handoff.forget(message.user_key)
            result.forgotten = True
        return result

    async def _open_ticket(self, message: InboundMessage, profile: Profile, language: str) -> ChatResult:
        assert self.handoff is not None
        replies = await self.handoff.open_ticket(message, profile, language)
        await self.profiles.save(
            profile.with_changes(
                language=language, handoff_pending=False, handoff_topic=None, handoff_urgent=False
            )
        )
        return ChatResult(language=language, topic=profile.handoff_topic, replies=replies)


def _reply(item: dict[str, Any]) -> Reply:
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if b.get("payload")
    )
    return Reply(str(item["text"]), buttons)
