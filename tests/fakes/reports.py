"""In-memory fakes of the overview ports: ticket facts for statistics and search, missed messages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.core.clock import utcnow
from bot.core.overview import Decision, MissedMessage, TicketFacts, TicketQuery
from bot.core.tickets import Status


def matches(ticket: TicketFacts, query: TicketQuery) -> bool:
    return (
        ticket.city in query.cities
        and query.id_contains.upper() in ticket.id.upper()
        and (query.topic is None or ticket.topic == query.topic)
        and (query.language is None or ticket.language == query.language)
        and (query.status is None or ticket.status is query.status)
        and (not query.only_open or ticket.status is not Status.CLOSED)
        and (query.opened_from is None or ticket.created_at >= query.opened_from)
        and (query.opened_until is None or ticket.created_at < query.opened_until)
    )


@dataclass
class MemoryTicketOverview:
    tickets: list[TicketFacts] = field(default_factory=list)
    announced: set[str] = field(default_factory=set)
    queries: list[TicketQuery] = field(default_factory=list)  # what the use case asked for

    async def find(self, query: TicketQuery) -> list[TicketFacts]:
        self.queries.append(query)
        found = sorted(
            (t for t in self.tickets if matches(t, query)), key=lambda t: (t.created_at, t.id), reverse=True
        )
        return found[: query.limit] if query.limit is not None else found

    async def claim_overdue(self, now: datetime) -> list[TicketFacts]:
        due = [t for t in self.tickets if t.overdue(now) and t.id not in self.announced]
        self.announced.update(t.id for t in due)
        return due


@dataclass
class MemoryMissedMessages:
    messages: list[MissedMessage] = field(default_factory=list)

    async def record(self, message: MissedMessage) -> None:
        self.messages.append(replace(message, id=len(self.messages) + 1))

    def _visible(self, message: MissedMessage, cities: tuple[str, ...], without_city: bool) -> bool:
        return message.city in cities or (without_city and message.city is None)

    async def undecided(self, cities: tuple[str, ...], without_city: bool) -> list[MissedMessage]:
        return [m for m in self.messages if m.decision is None and self._visible(m, cities, without_city)]

    async def decide(
        self,
        ids: list[int],
        cities: tuple[str, ...],
        without_city: bool,
        decision: Decision,
        topic: str | None,
    ) -> int:
        marked = 0
        for i, m in enumerate(self.messages):
            if m.id in ids and m.decision is None and self._visible(m, cities, without_city):
                self.messages[i] = replace(m, decision=decision, decision_topic=topic)
                marked += 1
        return marked

    async def decided(
        self, decision: Decision, cities: tuple[str, ...] | None = None, without_city: bool = True
    ) -> list[MissedMessage]:
        return [
            m
            for m in self.messages
            if m.decision is decision and (cities is None or self._visible(m, cities, without_city))
        ]

    async def erase_texts(self, texts: list[str]) -> int:
        kept = [m for m in self.messages if m.text not in texts]
        erased, self.messages = len(self.messages) - len(kept), kept
        return erased

    async def purge_older_than(self, older_than: timedelta) -> int:
        cutoff = utcnow() - older_than
        kept = [m for m in self.messages if m.at >= cutoff]
        purged, self.messages = len(self.messages) - len(kept), kept
        return purged
