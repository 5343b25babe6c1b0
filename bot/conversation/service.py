"""One inbound message in, the desk's replies out: language, profile, Rasa, and what Rasa decided.

Channels turn their input into an ``InboundMessage``; the web chat calls ``handle`` directly, Telegram
and WhatsApp messages come through the inbox worker (``answer``), which also says when the engine is
down. Each channel renders the ``ChatResult`` for its own limits.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.conversation.attachments import Attachments
from bot.conversation.handoff import Handoff, read_words
from bot.conversation.language import LanguagePolicy
from bot.conversation.privacy import Privacy
from bot.conversation.review import Review
from bot.core.catalog import Catalog
from bot.core.errors import EngineError, EngineUnavailable, InvalidMessage
from bot.core.i18n import Translations
from bot.core.languages import LANGUAGES
from bot.core.messages import (
    CONTROL_KEY,
    Button,
    ChatResult,
    HandoffRequest,
    InboundMessage,
    Kind,
    Reply,
    Signals,
    payload,
)
from bot.core.ports import Engine, ProfileStore
from bot.core.profiles import Profile
from bot.dialogue.answers import person_button

log = logging.getLogger(__name__)

class ConversationService:
    """Routes each message: detects the language, asks Rasa, remembers what the turn decided.

    Without ``handoff`` and ``privacy`` (unit tests of the language and engine paths) every message
    goes to the engine and the handoff, /status and /forget signals are ignored.
    """

    def __init__(
        self,
        engine: Engine,
        profiles: ProfileStore,
        policy: LanguagePolicy,
        catalog: Catalog,
        translations: Translations,
        handoff: Handoff | None = None,
        privacy: Privacy | None = None,
        review: Review | None = None,
        attachments: Attachments | None = None,
    ) -> None:
        self.engine = engine
        self.profiles = profiles
        self.policy = policy
        self.catalog = catalog
        self.translations = translations
        self.handoff = handoff
        self.privacy = privacy
        self.review = review  # where messages that got no topic answer are kept for staff
        self.attachments = attachments  # photos and PDFs for the user's ticket (None: never stored)

    async def language_for(self, message: InboundMessage) -> str:
        """The language this message should be answered in (saving an explicit choice)."""
        profile = await self.profiles.get(message.user_key)
        return self._decide_language(profile, message)

    async def answer(self, message: InboundMessage) -> ChatResult:
        """Any message: text goes to the conversation, a voice message or a photo gets a fixed reply."""
        if message.kind is Kind.TEXT:
            return await self.handle(message)
        if message.attachment is not None and self.attachments is not None:
            return await self.receive_file(message)
        language = await self.language_for(message)
        return ChatResult(language=language, replies=[self._not_text_reply(message.kind, language)])

    async def receive_file(self, message: InboundMessage, content: bytes | None = None) -> ChatResult:
        """A photo or a PDF (``content``: the web chat's upload; otherwise the platform's, downloaded):
        it goes to the user's ticket, opening the one a handoff is waiting for; without a ticket the
        bot says it cannot read files and offers a person."""
        assert self.attachments is not None
        profile = await self.profiles.get(message.user_key)
        language = self._decide_language(profile, message)
        ticket = await self.attachments.ticket_of(message.user_key)
        replies: list[Reply] = []
        if ticket is None and profile.pending_handoff is not None and self.handoff is not None:
            # the caption, if any, is the few words of the ticket the file opens
            replies = (await self._open_ticket(message, profile, language)).replies
            ticket = await self.attachments.ticket_of(message.user_key)
        elif ticket is not None and message.text and self.handoff is not None:
            await self.handoff.to_ticket(ticket, message.text)
        if ticket is None:
            replies.append(self.attachments.outside_a_ticket(language))
            return ChatResult(language=language, replies=replies)
        if message.language is None and profile.language is None:
            language = ticket.language  # a file says nothing of its language; the ticket does
        replies.append(await self.attachments.receive(ticket, message, language, content))
        return ChatResult(language=language, replies=replies)

    def outage_notice(self, language: str) -> Reply:
        """Said once per outage to a user whose message waits in the inbox for the engine."""
        return Reply(self.translations(language)._("We received your message. We will answer shortly."))

    def apology(self, language: str) -> Reply:
        """Said when a message could not be answered at all (parked after its retries): a person can."""
        tr = self.translations(language)
        text = tr._("Sorry, something went wrong and I could not answer your message. A person can help you.")
        return Reply(text, (person_button(tr),))

    async def handle(self, message: InboundMessage) -> ChatResult:
        self._validate(message)
        profile = await self.profiles.get(message.user_key)
        language = self._decide_language(profile, message)
        if self.handoff is not None and not for_the_assistant(profile, message):
            if await self.handoff.to_mediator(message):
                return ChatResult(language=language, relayed=True)  # a mediator holds it: bot quiet
            if profile.pending_handoff is not None:
                return await self._open_ticket(message, profile, language)
        pinned = profile.language_pinned or message.language is not None
        city = message.city or profile.city
        metadata = {"language": language, "city": city, "channel": message.channel}
        try:
            raw = await self.engine.send(message.user_key, message.text, metadata, message.platform_id)
        except EngineError as exc:
            exc.language = language
            raise
        result = ChatResult(language=language)
        signals = Signals()
        for item in raw:
            control = (item.get("custom") or {}).get(CONTROL_KEY)
            if isinstance(control, dict):
                result.topic = control.get("topic") or result.topic
                city = control.get("city") or city
                if control.get("language") in LANGUAGES:
                    result.language, pinned = control["language"], True
                signals = _merge(signals, Signals.from_wire(control))
            elif item.get("text"):
                result.replies.append(_reply(item))
        changed = profile.with_changes(language=result.language, language_pinned=pinned, city=city)
        return await self._after_turn(message, profile, changed, result, signals)

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

    async def _after_turn(
        self, message: InboundMessage, stored: Profile, profile: Profile, result: ChatResult, signals: Signals
    ) -> ChatResult:
        """``stored``: the profile as read before the turn; it is written only if the turn changed it
        (most turns do not: one transaction less per message)."""
        if signals.handoff is not None:
            profile = profile.with_changes(pending_handoff=signals.handoff)
        profile = profile.with_changes(confirming_forget=signals.asking_forget)
        if profile != stored:
            await self.profiles.save(profile)
        if self.review is not None and signals.missed is not None:
            await self.review.record(message, signals.missed, result.language, profile.city)
        if self.privacy is not None and signals.status:
            result.replies += await self.privacy.status(message.user_key, result.language)
        if self.privacy is not None and signals.forget:
            await self.privacy.forget(message.user_key)
            result.forgotten = True
        return result

    async def _open_ticket(self, message: InboundMessage, profile: Profile, language: str) -> ChatResult:
        assert self.handoff is not None and profile.pending_handoff is not None
        request = await self._read_words(message, profile.pending_handoff)
        replies = await self.handoff.open_ticket(message, profile.city, request, language)
        await self.profiles.save(profile.with_changes(language=language, pending_handoff=None))
        return ChatResult(language=language, topic=request.topic, replies=replies)

    async def _read_words(self, message: InboundMessage, request: HandoffRequest) -> HandoffRequest:
        """The few words may say what the conversation did not: the topic, or that someone is in danger.
        Unread (engine down) the ticket still opens, with what the conversation knew."""
        if message.is_payload or not message.text:
            return request
        try:
            words = await self.engine.understand(message.text)
        except EngineUnavailable as exc:
            log.warning("a ticket's few words were not read: %s", exc)
            return request
        return read_words(request, words, self.catalog)

    def _not_text_reply(self, kind: Kind, language: str) -> Reply:
        tr = self.translations(language)
        if kind is Kind.GROUP:
            return Reply(tr._("I can only help in a private chat. Please write to me directly."))
        if kind is Kind.VOICE:
            text = tr._(
                "I can't listen to voice messages yet. Please write your question, or talk to a person."
            )
            return Reply(text, (person_button(tr),))
        return Reply(tr._("I can only read text messages. Please write your question in words."))


PRIVACY_COMMANDS = frozenset({payload("forget_me"), payload("check_status")})
CONFIRMATIONS = frozenset({payload("affirm"), payload("deny")})


def for_the_assistant(profile: Profile, message: InboundMessage) -> bool:
    """/forget and /status, and the answer to "delete everything?", go to the assistant even while a
    mediator holds the user's ticket or a handoff waits for the few words: a user can always leave."""
    return message.text in PRIVACY_COMMANDS or (profile.confirming_forget and message.text in CONFIRMATIONS)


def _merge(first: Signals, second: Signals) -> Signals:
    """Several control messages in one turn: a later one adds to, never erases, an earlier one."""
    return Signals(
        second.handoff or first.handoff,
        first.status or second.status,
        first.forget or second.forget,
        first.asking_forget or second.asking_forget,
        first.missed or second.missed,
    )


def _reply(item: dict[str, Any]) -> Reply:
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if b.get("payload")
    )
    return Reply(str(item["text"]), buttons)
