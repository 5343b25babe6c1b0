"""Missed messages on SQLAlchemy: recorded without any user identifier, shown by city, marked by staff,
purged after the retention period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.database import deleted
from bot.adapters.sql.tables import MissedMessageRow
from bot.core.clock import as_utc, utcnow
from bot.core.overview import Decision, MissedMessage, MissKind


def missed(row: MissedMessageRow) -> MissedMessage:
    return MissedMessage(
        text=row.text,
        language=row.language,
        kind=MissKind(row.kind),
        topic=row.topic,
        confidence=float(row.confidence),
        city=row.city,
        at=as_utc(row.at),
        id=row.id,
        decision=Decision(row.decision) if row.decision else None,
        decision_topic=row.decision_topic,
    )


def visible(cities: tuple[str, ...], without_city: bool) -> ColumnElement[bool]:
    """The rows of these cities, and those of no known city when allowed."""
    mine = MissedMessageRow.city.in_(cities)
    return or_(mine, MissedMessageRow.city.is_(None)) if without_city else mine


class SqlMissedMessages:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def record(self, message: MissedMessage) -> None:
        async with self._sessions.begin() as session:
            session.add(
                MissedMessageRow(
                    text=message.text,
                    language=message.language,
                    kind=message.kind.value,
                    topic=message.topic,
                    confidence=message.confidence,
                    city=message.city,
                    at=message.at,
                )
            )

    async def undecided(self, cities: tuple[str, ...], without_city: bool) -> list[MissedMessage]:
        query = (
            select(MissedMessageRow)
            .where(MissedMessageRow.decision.is_(None), visible(cities, without_city))
            .order_by(MissedMessageRow.id)
        )
        return await self._rows(query)

    async def decide(
        self,
        ids: list[int],
        cities: tuple[str, ...],
        without_city: bool,
        decision: Decision,
        topic: str | None,
    ) -> int:
        change = (
            update(MissedMessageRow)
            .where(
                MissedMessageRow.id.in_(ids),
                MissedMessageRow.decision.is_(None),
                visible(cities, without_city),
            )
            .values(decision=decision.value, decision_topic=topic)
        )
        async with self._sessions.begin() as session:
            return deleted(await session.execute(change))

    async def decided(
        self, decision: Decision, cities: tuple[str, ...] | None = None, without_city: bool = True
    ) -> list[MissedMessage]:
        query = select(MissedMessageRow).where(MissedMessageRow.decision == decision.value)
        if cities is not None:
            query = query.where(visible(cities, without_city))
        order = (MissedMessageRow.language, MissedMessageRow.decision_topic, MissedMessageRow.id)
        return await self._rows(query.order_by(*order))

    async def erase_texts(self, texts: list[str]) -> int:
        async with self._sessions.begin() as session:
            return deleted(
                await session.execute(delete(MissedMessageRow).where(MissedMessageRow.text.in_(texts)))
            )

    async def purge_older_than(self, older_than: timedelta) -> int:
        cutoff = utcnow() - older_than
        async with self._sessions.begin() as session:
            return deleted(
                await session.execute(delete(MissedMessageRow).where(MissedMessageRow.at < cutoff))
            )

    async def _rows(self, query: Any) -> list[MissedMessage]:
        async with self._sessions() as session:
            return [missed(row) for row in (await session.execute(query)).scalars()]
