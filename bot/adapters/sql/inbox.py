"""The inbox on SQLAlchemy (SQLite by default, PostgreSQL when configured).

An update is stored before its webhook is acknowledged; the unique (channel, platform id) key drops
duplicates, also after a restart. Finishing a message and queueing its replies is one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.database import deleted
from bot.adapters.sql.outbox import outbox_row
from bot.adapters.sql.tables import InboxRow, OutboxRow
from bot.core.clock import as_utc, utcnow
from bot.core.messages import Inbound, InboundMessage, Kind, OutboundKind, Reply, split_user_key


def due(now: datetime) -> ColumnElement[bool]:
    return or_(InboxRow.next_attempt_at.is_(None), InboxRow.next_attempt_at <= now)


class SqlInbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def receive(self, message: InboundMessage) -> bool:
        """Store an inbound update; False when it was already stored (a platform retry)."""
        row = InboxRow(
            channel=message.channel,
            platform_id=message.platform_id,
            user_key=message.user_key,
            kind=message.kind.value,
            text=message.text,
            language_hint=message.language_hint,
            received_at=as_utc(message.received_at or utcnow()).astimezone(timezone.utc),
            status="pending",
            attempts=0,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
                # the user wrote: the WhatsApp window is open again, held replies may go
                if message.channel == "whatsapp":
                    await session.execute(
                        update(OutboxRow)
                        .where(OutboxRow.user_key == message.user_key, OutboxRow.status == "held")
                        .values(status="pending", next_attempt_at=utcnow())
                    )
        except IntegrityError:
            return False
        return True

    async def pending_users(self) -> list[str]:
        """Users with a message due, the longest-waiting first."""
        query = (
            select(InboxRow.user_key, func.min(InboxRow.id))
            .where(InboxRow.status == "pending", due(utcnow()))
            .group_by(InboxRow.user_key)
            .order_by(func.min(InboxRow.id))
        )
        async with self._sessions() as session:
            return [user for user, _ in (await session.execute(query)).all()]

    async def next_for(self, user_key: str) -> Inbound | None:
        """The user's oldest pending message, if due: a later one never overtakes it."""
        query = (
            select(InboxRow)
            .where(InboxRow.user_key == user_key, InboxRow.status == "pending")
            .order_by(InboxRow.id)
            .limit(1)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).scalar_one_or_none()
        if row is None or (row.next_attempt_at is not None and as_utc(row.next_attempt_at) > utcnow()):
            return None
        channel, user = split_user_key(row.user_key)
        message = InboundMessage(
            channel=channel,
            user=user,
            text=row.text,
            kind=Kind(row.kind),
            platform_id=row.platform_id,
            language_hint=row.language_hint,
            received_at=as_utc(row.received_at),
        )
        return Inbound(row.id, message, row.attempts, row.failures)

    async def postpone(self, inbound_id: int, seconds: float) -> None:
        await self._again(inbound_id, seconds)

    async def failed(self, inbound_id: int, seconds: float, reason: str) -> None:
        await self._again(inbound_id, seconds, failures=InboxRow.failures + 1, error=reason)

    async def _again(self, inbound_id: int, seconds: float, **values: object) -> None:
        later = utcnow() + timedelta(seconds=seconds)
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id == inbound_id)
                .values(attempts=InboxRow.attempts + 1, next_attempt_at=later, **values)
            )

    async def park(self, inbound: Inbound, reason: str, language: str, replies: list[Reply]) -> None:
        now = utcnow()
        message = inbound.message
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id == inbound.id)
                .values(
                    status="parked",
                    processed_at=now,
                    text="",
                    error=reason,
                    failures=InboxRow.failures + 1,
                    attempts=InboxRow.attempts + 1,
                )
            )
            for reply in replies:
                session.add(outbox_row(message.channel, message.user_key, language, reply, now))

    async def finish(
        self, inbound: Inbound, language: str, replies: list[Reply], ephemeral: bool = False
    ) -> None:
        """Mark the message answered and queue its replies, in one transaction (nothing half done).

        ``ephemeral``: the user's data was just erased; these replies are deleted once sent."""
        now = utcnow()
        kind = OutboundKind.EPHEMERAL if ephemeral else OutboundKind.REPLY
        message = inbound.message
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id == inbound.id)
                .values(status="done", processed_at=now, text="")  # the text is not kept
            )
            for reply in replies:
                session.add(outbox_row(message.channel, message.user_key, language, reply, now, kind))

    async def last_inbound_at(self, user_key: str) -> datetime | None:
        query = select(func.max(InboxRow.received_at)).where(InboxRow.user_key == user_key)
        async with self._sessions() as session:
            latest = (await session.execute(query)).scalar_one_or_none()
        return as_utc(latest) if latest else None

    async def erase_user(self, user_key: str) -> None:
        """Every message of the user but those still to answer: the /forget being answered now keeps
        WhatsApp's window open for its confirmation, and goes once that is sent (``SqlOutbox.sent``)."""
        async with self._sessions.begin() as session:
            mine = InboxRow.user_key == user_key
            await session.execute(delete(InboxRow).where(mine, InboxRow.status != "pending"))

    async def purge_answered(self, older_than: timedelta) -> int:
        """Retention: answered messages received before now - older_than (their text is gone already;
        the row still says who wrote when)."""
        limit = utcnow() - older_than
        async with self._sessions.begin() as session:
            answered = InboxRow.status.in_(("done", "parked"))
            query = delete(InboxRow).where(answered, InboxRow.received_at < limit)
            return deleted(await session.execute(query))
