"""The web chat's mailbox on SQLAlchemy: rows of the outbox table that no sender sends.

A mediator's reply to a web-chat user cannot be pushed: the user's page collects it. The row waits with
status ``mailbox`` (the sender only ever looks at ``pending`` rows) until the page says it showed it,
then it is ``sent`` like any other reply, and retention and ``/forget`` treat it like the rest.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.database import deleted
from bot.adapters.sql.outbox import outbox_row
from bot.adapters.sql.tables import OutboxRow
from bot.core.clock import as_utc, utcnow
from bot.core.messages import WEB_CHAT, Letter, OutboundKind, Reply

MAILBOX = "mailbox"


class SqlMailbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def post(self, user_key: str, language: str, text: str, from_person: bool) -> None:
        kind = OutboundKind.PERSON if from_person else OutboundKind.REPLY
        row = outbox_row(WEB_CHAT, user_key, language, Reply(text), utcnow(), kind)
        row.status = MAILBOX
        async with self._sessions.begin() as session:
            session.add(row)

    async def waiting(self, user_key: str, after: int = 0) -> list[Letter]:
        query = (
            select(OutboxRow)
            .where(OutboxRow.user_key == user_key, OutboxRow.status == MAILBOX, OutboxRow.id > after)
            .order_by(OutboxRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [
            Letter(
                row.id, row.language, row.text, row.kind == OutboundKind.PERSON.value, as_utc(row.created_at)
            )
            for row in rows
        ]

    async def shown(self, user_key: str, up_to: int) -> int:
        """Only the user's own letters: a page cannot mark another user's as shown."""
        mine = OutboxRow.user_key == user_key, OutboxRow.status == MAILBOX, OutboxRow.id <= up_to
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(*mine).values(status="sent", sent_at=utcnow())
            )
        return deleted(result)
