"""The outbox on SQLAlchemy: replies wait here until the platform confirms them.

A row is pending, sent, held (WhatsApp's window closed: it goes when the user writes again) or failed
(with why). Per user, only the oldest pending row is due, so a conversation keeps its order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.sql.database import deleted, flush_erased, worker_name
from bot.adapters.sql.tables import InboxRow, OutboxRow
from bot.core.clock import as_utc, utcnow
from bot.core.messages import Button, Outbound, OutboundKind, Reply

SEND_LEASE_SECONDS = 60.0  # longer than any one send with its retries inside python-telegram-bot


class SqlOutbox:
    """Several gateway processes may share the database: a reply is claimed (with a lease) before it is
    sent, so only one process sends it; a user's next reply is due only once the previous one is sent,
    which keeps their order across processes. A process that dies mid-send leaves a lease that runs out:
    then another one sends the reply (at least once: the platform may have received it already)."""

    def __init__(
        self, engine: AsyncEngine, worker: str | None = None, lease_seconds: float = SEND_LEASE_SECONDS
    ) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.worker = worker or worker_name()
        self.lease = timedelta(seconds=lease_seconds)

    async def queue(
        self, channel: str, user_key: str, language: str, replies: list[Reply], kind: str = "reply"
    ) -> None:
        now = utcnow()
        async with self._sessions.begin() as session:
            for reply in replies:
                session.add(outbox_row(channel, user_key, language, reply, now, kind))

    async def due(self, now: datetime) -> list[Outbound]:
        """Per user, the oldest unsent reply, when it is due: order within a conversation holds."""
        query = select(OutboxRow).where(OutboxRow.status == "pending").order_by(OutboxRow.id)
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        first: dict[str, OutboxRow] = {}
        for row in rows:
            first.setdefault(row.user_key, row)
        due = [row for row in first.values() if as_utc(row.next_attempt_at) <= now]
        return [_outbound(row) for row in due if self._free(row, now)]

    def _free(self, row: OutboxRow, now: datetime) -> bool:
        return row.lease_until is None or as_utc(row.lease_until) <= now or row.claimed_by == self.worker

    async def claim(self, outbound_id: int) -> bool:
        """Take a due reply for this process to send; False when another process has it."""
        now = utcnow()
        free = or_(
            OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now, OutboxRow.claimed_by == self.worker
        )
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == outbound_id, OutboxRow.status == "pending", free)
                .values(claimed_by=self.worker, lease_until=now + self.lease)
            )
        return deleted(result) == 1

    async def sent(self, outbound_id: int, platform_message_id: str) -> None:
        """Record a send, in one short transaction: the platform has the message, and until this
        commits a crash would send it again (the at-least-once window)."""
        async with self._sessions.begin() as session:
            # an ephemeral reply (the confirmation of /forget) leaves no trace once sent: neither its row
            # nor the answered message that kept WhatsApp's window open for it
            ephemeral = OutboxRow.id == outbound_id, OutboxRow.kind == OutboundKind.EPHEMERAL.value
            forgotten = (
                await session.execute(
                    delete(OutboxRow).where(*ephemeral).returning(OutboxRow.user_key)
                )
            ).scalar()
            if forgotten is not None:
                done = InboxRow.user_key == forgotten, InboxRow.status == "done"
                await session.execute(delete(InboxRow).where(*done))
            else:
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == outbound_id)
                    .values(
                        status="sent",
                        platform_message_id=platform_message_id,
                        sent_at=utcnow(),
                        attempts=OutboxRow.attempts + 1,
                        error=None,
                        lease_until=None,
                    )
                )
        if forgotten is not None:  # the last trace of a forgotten user: out of SQLite's log too
            await flush_erased(self._engine)

    async def part_sent(self, outbound_id: int, parts_sent: int, platform_message_id: str) -> None:
        """One message of a multi-message reply went out: a retry starts after it."""
        await self._update(outbound_id, parts_sent=parts_sent, platform_message_id=platform_message_id)

    async def retry(self, outbound_id: int, delay: float, error: str) -> None:
        await self._update(
            outbound_id,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            attempts=OutboxRow.attempts + 1,
            error=error,
            lease_until=None,
        )

    async def failed(self, outbound_id: int, error: str) -> None:
        await self._update(
            outbound_id, status="failed", attempts=OutboxRow.attempts + 1, error=error, lease_until=None
        )

    async def hold(self, user_key: str) -> None:
        """WhatsApp window closed: keep this user's replies until they write again."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.user_key == user_key,
                    OutboxRow.status == "pending",
                    OutboxRow.kind.in_((OutboundKind.REPLY.value, OutboundKind.EPHEMERAL.value)),
                )
                .values(status="held")
            )

    async def delivery(self, platform_message_id: str, status: str, error: str | None) -> str | None:
        """Record a platform's delivery status; returns the user it concerned (None if not ours)."""
        async with self._sessions.begin() as session:
            row = await self._by_platform_id(session, platform_message_id)
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
            row = await self._by_platform_id(session, platform_message_id)
            if row is None or row.kind != OutboundKind.REPLY.value:
                return
            row.status = "held"
            # a long answer is several messages, each failed by its own webhook: one template is enough
            waiting = await session.execute(
                select(OutboxRow.id)
                .where(
                    OutboxRow.user_key == row.user_key,
                    OutboxRow.kind == OutboundKind.TEMPLATE.value,
                    OutboxRow.status == "pending",
                )
                .limit(1)
            )
            if waiting.first() is None:
                template = outbox_row(
                    row.channel, row.user_key, row.language, Reply(""), utcnow(), OutboundKind.TEMPLATE
                )
                session.add(template)

    async def erase_user(self, user_key: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(OutboxRow).where(OutboxRow.user_key == user_key))

    async def purge_sent(self, older_than: timedelta) -> int:
        """Retention: replies sent (or finally failed, or never collected from a web chat's mailbox)
        before now - older_than, text and all."""
        limit = utcnow() - older_than
        done = OutboxRow.status.in_(("sent", "failed", "mailbox"))
        async with self._sessions.begin() as session:
            return deleted(await session.execute(delete(OutboxRow).where(done, OutboxRow.created_at < limit)))

    async def _by_platform_id(self, session: AsyncSession, platform_message_id: str) -> OutboxRow | None:
        # the newest: a platform's id is unique there, but a fake or a replayed send may have given it twice
        query = (
            select(OutboxRow)
            .where(OutboxRow.platform_message_id == platform_message_id)
            .order_by(OutboxRow.id.desc())
            .limit(1)
        )
        return (await session.execute(query)).scalars().first()

    async def _update(self, outbound_id: int, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(OutboxRow).where(OutboxRow.id == outbound_id).values(**values))


def outbox_row(
    channel: str, user_key: str, language: str, reply: Reply, now: datetime, kind: str = "reply"
) -> OutboxRow:
    return OutboxRow(
        channel=channel,
        user_key=user_key,
        language=language,
        kind=str(OutboundKind(kind).value),
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
