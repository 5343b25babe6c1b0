"""Tickets for the overview: facts for statistics and search (a column list, no transcript), and the
overdue ones claimed for their single announcement to the staff group."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.database import deleted
from bot.adapters.sql.tables import TicketRow
from bot.core.clock import as_utc
from bot.core.overview import TicketFacts, TicketQuery
from bot.core.tickets import Outcome, Status

COLUMNS = (
    TicketRow.id,
    TicketRow.city,
    TicketRow.language,
    TicketRow.topic,
    TicketRow.urgent,
    TicketRow.status,
    TicketRow.outcome,
    TicketRow.created_at,
    TicketRow.due_at,
    TicketRow.first_reply_at,
    TicketRow.closed_at,
)


def facts(row: Any) -> TicketFacts:
    return TicketFacts(
        id=row.id,
        city=row.city,
        language=row.language,
        topic=row.topic,
        urgent=bool(row.urgent),
        status=Status(row.status),
        outcome=Outcome(row.outcome) if row.outcome else None,
        created_at=as_utc(row.created_at),
        due_at=as_utc(row.due_at),
        first_reply_at=as_utc(row.first_reply_at) if row.first_reply_at else None,
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
    )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(query: TicketQuery) -> Select[Any]:
    """The SELECT for a query; the cities are always part of it (an empty tuple matches nothing)."""
    sql = select(*COLUMNS).where(TicketRow.city.in_(query.cities))
    if query.id_contains:
        pattern = f"%{escape_like(query.id_contains.upper())}%"
        sql = sql.where(func.upper(TicketRow.id).like(pattern, escape="\\"))
    if query.topic:
        sql = sql.where(TicketRow.topic == query.topic)
    if query.language:
        sql = sql.where(TicketRow.language == query.language)
    if query.status is not None:
        sql = sql.where(TicketRow.status == query.status.value)
    if query.only_open:
        sql = sql.where(TicketRow.status != Status.CLOSED.value)
    if query.opened_from is not None:
        sql = sql.where(TicketRow.created_at >= query.opened_from)
    if query.opened_until is not None:
        sql = sql.where(TicketRow.created_at < query.opened_until)
    sql = sql.order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
    return sql.limit(query.limit) if query.limit is not None else sql


class SqlTicketOverview:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def find(self, query: TicketQuery) -> list[TicketFacts]:
        async with self._sessions() as session:
            return [facts(row) for row in await session.execute(filtered(query))]

    async def claim_overdue(self, now: datetime) -> list[TicketFacts]:
        candidates = (
            select(*COLUMNS)
            .where(
                TicketRow.status != Status.CLOSED.value,
                TicketRow.due_at < now,
                TicketRow.overdue_notified.is_(False),
            )
            .order_by(TicketRow.due_at)
        )
        async with self._sessions() as session:
            found = [facts(row) for row in await session.execute(candidates)]
        return [ticket for ticket in found if await self._claim(ticket.id)]

    async def _claim(self, ticket_id: str) -> bool:
        """One conditional UPDATE: the gateway whose UPDATE changed the row announces the ticket."""
        claim = (
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.overdue_notified.is_(False))
            .values(overdue_notified=True)
        )
        async with self._sessions.begin() as session:
            return deleted(await session.execute(claim)) == 1
