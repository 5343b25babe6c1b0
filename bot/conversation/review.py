"""What the desk misses: messages that got "I did not understand", the out-of-scope reply or no
knowledge entry, recorded without who wrote them, grouped for staff per language and guessed topic,
marked as training examples, knowledge to write or out of scope, and exported as NLU examples."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from bot.core.clock import utcnow
from bot.core.errors import InvalidInput
from bot.core.messages import InboundMessage
from bot.core.overview import Decision, Miss, MissedGroup, MissedMessage, missed_text
from bot.core.ports import MissedMessages
from bot.core.tickets import Mediator, Role

log = logging.getLogger(__name__)
OUT_OF_SCOPE_INTENT = "out_of_scope"  # the NLU intent out-of-scope examples train


def without_city(mediator: Mediator) -> bool:
    """Messages of users who never said their city belong to no city's team: coordinators see them."""
    return mediator.role is Role.COORDINATOR


def grouped(messages: list[MissedMessage]) -> list[MissedGroup]:
    """Per language and guessed topic, the largest group first."""
    groups: dict[tuple[str, str | None], list[MissedMessage]] = defaultdict(list)
    for message in messages:
        groups[(message.language, message.topic)].append(message)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0][0], item[0][1] or ""))
    return [MissedGroup(language, topic, tuple(found)) for (language, topic), found in ordered]


@dataclass
class Review:
    missed: MissedMessages
    topics: Collection[str] = field(default_factory=tuple)

    async def record(self, message: InboundMessage, miss: Miss, language: str, city: str | None) -> None:
        """Keep what staff need of a missed message: its words (without numbers or addresses), the
        language, the guess, the city and the day; never the user, their channel or a ticket."""
        if message.is_payload:
            return  # a button the desk made: nothing to learn from the words
        text = missed_text(message.text)
        if not text:
            return
        await self.missed.record(
            MissedMessage(text, language, miss.kind, miss.topic, miss.confidence, city, utcnow())
        )

    async def groups(self, mediator: Mediator) -> list[MissedGroup]:
        """The undecided messages of the mediator's cities, grouped."""
        return grouped(await self.missed.undecided(mediator.cities, without_city(mediator)))

    async def knowledge_needed(self, mediator: Mediator) -> list[MissedGroup]:
        """What staff marked as needing a knowledge entry, of the mediator's cities, per language and the
        topic they chose (the list for whoever writes ``knowledge/``)."""
        found = await self.missed.decided(Decision.KNOWLEDGE, mediator.cities, without_city(mediator))
        return grouped([replace(m, topic=m.decision_topic) for m in found])

    async def mark(self, mediator: Mediator, ids: list[int], decision: str, topic: str) -> int:
        """Staff decide what a group (or the messages chosen of it) is; how many were marked."""
        try:
            chosen = Decision(decision)
        except ValueError:
            raise InvalidInput("Choose what these messages are.") from None
        if topic and topic not in self.topics:
            raise InvalidInput("Choose a topic from the list.")
        if chosen is Decision.EXAMPLE and not topic:
            raise InvalidInput("Choose the topic these messages are examples of.")
        if not ids:
            raise InvalidInput("Choose at least one message.")
        kept_topic = None if chosen is Decision.OUT_OF_SCOPE else topic or None
        marked = await self.missed.decide(ids, mediator.cities, without_city(mediator), chosen, kept_topic)
        log.info("review: %d missed messages marked %s", marked, chosen.value)
        return marked

    async def examples(self) -> dict[str, dict[str, list[str]]]:
        """The marked training examples per language and intent (out of scope ones under their own
        intent), each text once."""
        found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for decision in (Decision.EXAMPLE, Decision.OUT_OF_SCOPE):
            for message in await self.missed.decided(decision):
                intent = message.decision_topic if decision is Decision.EXAMPLE else OUT_OF_SCOPE_INTENT
                if not intent:
                    continue
                texts = found[message.language][intent]
                if message.text not in texts:
                    texts.append(message.text)
        return {language: dict(intents) for language, intents in found.items()}
