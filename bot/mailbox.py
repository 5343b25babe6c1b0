"""The gateway's durable inbox and outbox (SQLAlchemy; SQLite by default, PostgreSQL when configured).

Inbox: an update is stored before its webhook is acknowledged; the unique (channel, platform id) key drops
duplicates, also after a restart. Outbox: replies wait here until the platform confirms them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.channels.base import InboundMessage, Kind
from bot.db import InboxRow, OutboxRow
from bot.dialogue.turn import Button, Reply


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC (and is stored as UTC: SQLite keeps the
    wall-clock time of an aware datetime and drops its offset)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Inbound:
    id: int
    message: InboundMessage
    attempts: int


@dataclass(frozen=True)
class Outbound:
    id: int
    channel: str
    user_key: str
    language: str
    kind: str
    reply: Reply
    attempts: int
    next_attempt_at: datetime
    parts_sent: int = 0

    @property
    def user(self) -> str:
        return self.user_key.split(":", 1)[1]


class Mailbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    # inbox -------------------------------------------------------------------------------------
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
        """Users with unprocessed messages, the longest-waiting first."""
        query = (
            select(InboxRow.user_key, func.min(InboxRow.id))
            .where(InboxRow.status == "pending")
            .group_by(InboxRow.user_key)
            .order_by(func.min(InboxRow.id))
        )
        async with self._sessions() as session:
            return [user for user, _ in (await session.execute(query)).all()]

    async def next_for(self, user_key: str) -> Inbound | None:
        query = (
            select(InboxRow)
            .where(InboxRow.user_key == user_key, InboxRow.status == "pending")
            .order_by(InboxRow.id)
            .limit(1)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        channel, user = row.user_key.split(":", 1)
        message = InboundMessage(
            channel=channel,
            user=user,
            text=row.text,
            kind=Kind(row.kind),
            platform_id=row.platform_id,
            language_hint=row.language_hint,
            received_at=as_utc(row.received_at),
        )
        return Inbound(row.id, message, row.attempts)

    async def postpone(self, inbound_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow).where(InboxRow.id == inbound_id).values(attempts=InboxRow.attempts + 1)
            )

    async def finish(
        self, inbound: Inbound, language: str, replies: list[Reply], ephemeral: bool = False
    ) -> None:
        """Mark the message answered and queue its replies, in one transaction (nothing half done).

        ``ephemeral``: the user's data was just erased; these replies are deleted once sent."""
        now = utcnow()
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id == inbound.id)
                .values(status="done", processed_at=now, text="")  # the text is not kept
            )
            kind = "ephemeral" if ephemeral else "reply"
            for reply in replies:
                message = inbound.message
                session.add(_outbox_row(message.channel, message.user_key, language, reply, now, kind))

    async def queue(
        self, channel: str, user_key: str, language: str, replies: list[Reply], kind: str = "reply"
    ) -> None:
        now = utcnow()
        async with self._sessions.begin() as session:
            for reply in replies:
                session.add(_outbox_row(channel, user_key, language, reply, now, kind))

    async def last_inbound_at(self, user_key: str) -> datetime | None:
        query = select(func.max(InboxRow.received_at)).where(InboxRow.user_key == user_key)
        async with self._sessions() as session:
            latest = (await session.execute(query)).scalar_one_or_none()
        return as_utc(latest) if latest else None

    # outbox ------------------------------------------------------------------------------------
    async def due(self, now: datetime) -> list[Outbound]:
        """Per user, the oldest unsent reply, when it is due: order within a conversation holds."""
        query = select(OutboxRow).where(OutboxRow.status == "pending").order_by(OutboxRow.id)
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        first: dict[str, OutboxRow] = {}
        for row in rows:
            first.setdefault(row.user_key, row)
        return [_outbound(row) for row in first.values() if as_utc(row.next_attempt_at) <= now]

    async def sent(self, outbound_id: int, platform_message_id: str) -> None:
        async with self._sessions.begin() as session:  # an ephemeral reply leaves no trace once sent
            await session.execute(
                delete(OutboxRow).where(OutboxRow.id == outbound_id, OutboxRow.kind == "ephemeral")
            )
        await self._update(
            outbound_id,
            status="sent",
            platform_message_id=platform_message_id,
            sent_at=utcnow(),
            attempts=OutboxRow.attempts + 1,
            error=None,
        )

    async def part_sent(self, outbound_id: int, parts_sent: int, platform_message_id: str) -> None:
        """One message of a multi-message reply went out: a retry starts after it."""
        await self._update(outbound_id, parts_sent=parts_sent, platform_message_id=platform_message_id)

    async def retry(self, outbound_id: int, delay: float, error: str) -> None:
        await self._update(
            outbound_id,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            attempts=OutboxRow.attempts + 1,
            error=error,
        )

    async def failed(self, outbound_id: int, error: str) -> None:
        await self._update(outbound_id, status="failed", attempts=OutboxRow.attempts + 1, error=error)

    async def hold(self, user_key: str) -> None:
        """WhatsApp window closed: keep this user's replies until they write again."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.user_key == user_key,
                    OutboxRow.status == "pending",
                    OutboxRow.kind.in_(("reply", "ephemeral")),
                )
                .values(status="held")
            )

    async def delivery(self, platform_message_id: str, status: str, error: str | None) -> str | None:
        """Record a platform's delivery status; returns the user it concerned (None if not ours)."""
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    select(OutboxRow).where(OutboxRow.platform_message_id == platform_message_id)
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            row.delivery_status = status
            if error:
                row.error = error
            return row.user_key

    async def reopen(self, platform_message_id: str) -> None:
        """WhatsApp refused a reply after accepting it (131047, window closed): hold it and queue the
        approved template; the reply goes again when the user writes back."""
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    select(OutboxRow).where(OutboxRow.platform_message_id == platform_message_id)
                )
            ).scalar_one_or_none()
            if row is None or row.kind != "reply":
                return
            row.status = "held"
            # a long answer is several messages, each failed by its own webhook: one template is enough
            waiting = await session.execute(
                select(OutboxRow.id)
                .where(
                    OutboxRow.user_key == row.user_key,
                    OutboxRow.kind == "template",
                    OutboxRow.status == "pending",
                )
                .limit(1)
            )
            if waiting.first() is None:
                session.add(
                    _outbox_row(row.channel, row.user_key, row.language, Reply(""), utcnow(), "template")
                )

    async def erase_user(self, user_key: str) -> None:
        """Everything the gateway keeps of a user's messages, in both directions."""
        async with self._sessions.begin() as session:
            await session.execute(delete(InboxRow).where(InboxRow.user_key == user_key))
            await session.execute(delete(OutboxRow).where(OutboxRow.user_key == user_key))

    async def outbox_rows(self, user_key: str) -> list[OutboxRow]:
        query = select(OutboxRow).where(OutboxRow.user_key == user_key).order_by(OutboxRow.id)
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars().all())

    async def _update(self, outbound_id: int, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(OutboxRow).where(OutboxRow.id == outbound_id).values(**values))


def _outbox_row(
    channel: str, user_key: str, language: str, reply: Reply, now: datetime, kind: str = "reply"
) -> OutboxRow:
    return OutboxRow(
        channel=channel,
        user_key=user_key,
        language=language,
        kind=kind,
        text=reply.text,
        buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons],
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _outbound(row: OutboxRow) -> Outbound:
    reply = Reply(row.text, tuple(Button(b["title"], b["payload"]) for b in row.buttons or []))
    return Outbound(
        row.id,
        row.channel,
        row.user_key,
        row.language,
        row.kind,
        reply,
        row.attempts,
        as_utc(row.next_attempt_at),
        row.parts_sent or 0,
    )
