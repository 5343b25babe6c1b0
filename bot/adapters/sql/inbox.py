"""The inbox on SQLAlchemy (SQLite by default, PostgreSQL when configured).

An update is stored before its webhook is acknowledged; the unique (channel, platform id) key drops
duplicates, also after a restart. Finishing a message and queueing its replies is one transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import cast

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, update
from sqlalchemy import text as sql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.adapters.sql.database import deleted, worker_name
from bot.adapters.sql.outbox import outbox_row
from bot.adapters.sql.tables import InboxRow, OutboxRow
from bot.core.attachments import MediaRef
from bot.core.clock import as_utc, utcnow
from bot.core.messages import Inbound, InboundMessage, Kind, OutboundKind, Reply, split_user_key

log = logging.getLogger(__name__)


LEASE_SECONDS = 15.0  # a worker renews its claims every few seconds; a dead one's expire after this


def due(now: datetime) -> ColumnElement[bool]:
    return or_(InboxRow.next_attempt_at.is_(None), InboxRow.next_attempt_at <= now)


def free_for(worker: str, now: datetime) -> ColumnElement[bool]:
    """Not claimed, claimed by ``worker``, or claimed by someone whose lease ran out (a dead process)."""
    return or_(InboxRow.lease_until.is_(None), InboxRow.lease_until <= now, InboxRow.claimed_by == worker)


def media_text(ref: MediaRef, caption: str) -> str:
    """A photo's or document's platform reference and its caption as the row's text (emptied once
    answered, like a text)."""
    return json.dumps(
        {
            "file_id": ref.file_id,
            "kind": ref.kind,
            "type": ref.declared_type,
            "size": ref.declared_size,
            "caption": caption,
        }
    )


def media_ref(kind: str, text: str) -> tuple[MediaRef, str] | None:
    """The reference and caption ``media_text`` wrote; None for any other row (a sticker, a text)."""
    if kind != Kind.MEDIA.value or not text.startswith("{"):
        return None
    data = json.loads(text)
    size = data.get("size")
    declared_size = size if isinstance(size, int) else None
    ref = MediaRef(str(data["file_id"]), str(data["kind"]), str(data["type"]), declared_size)
    return ref, str(data.get("caption") or "")


def inbox_values(message: InboundMessage, now: datetime) -> dict[str, object]:
    return {
        "channel": message.channel,
        "platform_id": message.platform_id,
        "user_key": message.user_key,
        "kind": message.kind.value,
        "text": media_text(message.attachment, message.text) if message.attachment else message.text,
        "language_hint": message.language_hint,
        "received_at": as_utc(message.received_at or now).astimezone(timezone.utc),
        "status": "pending",
        "attempts": 0,
        "failures": 0,
    }


# A batch of updates in one PostgreSQL statement, the same text whatever the batch's size (one array per
# column): the new rows in their order, skipping the keys stored before (a platform's retry), and a
# WhatsApp user's held replies released, since their writing opened the 24-hour window again.
RECEIVE_COLUMNS = {
    "channel": "text",
    "platform_id": "text",
    "user_key": "text",
    "kind": "text",
    "text": "text",
    "language_hint": "text",
    "received_at": "timestamptz",
}
RECEIVE_STATEMENT = sql(
    f"""
    WITH new AS (
        INSERT INTO inbox ({", ".join(RECEIVE_COLUMNS)}, status, attempts, failures)
        SELECT {", ".join(RECEIVE_COLUMNS)}, 'pending', 0, 0
        FROM unnest({", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in RECEIVE_COLUMNS.items())})
            WITH ORDINALITY AS batch({", ".join(RECEIVE_COLUMNS)}, position)
        ORDER BY position
        ON CONFLICT DO NOTHING
        RETURNING channel, platform_id, user_key
    ), reopened AS (
        UPDATE outbox SET status = 'pending', next_attempt_at = :now
        WHERE status = 'held' AND user_key IN (SELECT user_key FROM new WHERE channel = 'whatsapp')
    )
    SELECT channel, platform_id FROM new
    """
)


def first_of_each(messages: list[InboundMessage], inserted: set[tuple[str, str]]) -> list[bool]:
    """Which messages were stored now: those whose key the INSERT returned, the first time the key comes
    (a platform's retry in the same batch is a duplicate of the first)."""
    seen: set[tuple[str, str]] = set()
    stored = []
    for message in messages:
        key = (message.channel, message.platform_id)
        stored.append(key in inserted and key not in seen)
        seen.add(key)
    return stored


class SqlInbox:
    """Several gateway processes may share the database: each message is claimed with a lease before it
    is worked, so it is worked by one process at a time, and a user's next message is claimed only once
    the previous one is finished, which keeps each user's order across processes.

    A claim is one conditional UPDATE of the user's oldest pending row (it must be pending, due, and not
    leased by another process), atomic on SQLite and on PostgreSQL alike: of two processes claiming at
    once, the second finds the row leased and gets nothing. (``FOR UPDATE SKIP LOCKED`` would let the
    second one skip to the user's *next* message, which is what per-user order forbids.)
    """

    def __init__(
        self,
        engine: AsyncEngine,
        worker: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        receiving: AsyncEngine | None = None,
    ) -> None:
        """``receiving``: where ``receive_many`` writes on PostgreSQL (``create_receiving_engine``: one
        round trip a batch); ``engine`` when None."""
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name
        # SQLite (PostgreSQL: RECEIVE_STATEMENT): one statement for every batch size, compiled once;
        # SQLAlchemy sends a batch's rows as one multi-row INSERT ("insertmanyvalues")
        self._insert = (
            sqlite_insert(cast(Table, InboxRow.__table__))
            .on_conflict_do_nothing()
            .returning(InboxRow.channel, InboxRow.platform_id)
        )
        self._receiving = receiving or engine
        self.worker = worker or worker_name()
        self.lease = timedelta(seconds=lease_seconds)

    async def receive(self, message: InboundMessage) -> bool:
        """Store an inbound update; False when it was already stored (a platform retry)."""
        (stored,) = await self.receive_many([message])
        return stored

    async def receive_many(self, messages: list[InboundMessage]) -> list[bool]:
        """Store updates in one transaction (one disk flush for all: a group commit); for each, False
        when it was already stored. One multi-row INSERT: a duplicate is skipped by the unique key, not by
        an error, so the others in the batch are kept, and the keys it returns say which rows are new (a
        round trip per batch, not per update: the webhooks wait for it)."""
        if not messages:
            return []
        now = utcnow()
        rows = [inbox_values(message, now) for message in messages]
        if self._dialect == "postgresql":
            return await self._receive_in_one_statement(messages, rows, now)
        async with self._sessions.begin() as session:
            result = await session.execute(self._insert, rows)
            inserted = {(channel, platform_id) for channel, platform_id in result}
            stored = first_of_each(messages, inserted)
            # the user wrote: the WhatsApp window is open again, held replies may go
            arrived = [m for m, new in zip(messages, stored, strict=True) if new]
            writers = {m.user_key for m in arrived if m.channel == "whatsapp"}
            if writers:
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.user_key.in_(writers), OutboxRow.status == "held")
                    .values(status="pending", next_attempt_at=now)
                )
        return stored

    async def _receive_in_one_statement(
        self, messages: list[InboundMessage], rows: list[dict[str, object]], now: datetime
    ) -> list[bool]:
        """PostgreSQL: the batch as one statement, so that on the receiving engine (autocommit) it is
        one round trip; one statement is also atomic: the rows and the reopened WhatsApp replies commit
        together or not at all."""
        columns = {name: [row[name] for row in rows] for name in RECEIVE_COLUMNS}
        async with self._receiving.begin() as connection:
            result = await connection.execute(RECEIVE_STATEMENT, {**columns, "now": now})
            inserted = {(channel, platform_id) for channel, platform_id in result}
        return first_of_each(messages, inserted)

    async def pending_users(self) -> list[str]:
        """Users with a message due and not worked by another process, the longest-waiting first."""
        now = utcnow()
        other = aliased(InboxRow)
        held_elsewhere = (
            select(other.id)
            .where(
                other.user_key == InboxRow.user_key,
                other.status == "pending",
                other.lease_until > now,
                other.claimed_by != self.worker,
            )
            .exists()
        )
        query = (
            select(InboxRow.user_key, func.min(InboxRow.id))
            .where(InboxRow.status == "pending", due(now), ~held_elsewhere)
            .group_by(InboxRow.user_key)
            .order_by(func.min(InboxRow.id))
        )
        async with self._sessions() as session:
            return [user for user, _ in (await session.execute(query)).all()]

    async def next_for(self, user_key: str) -> Inbound | None:
        """Claim the user's oldest pending message if it is due and no other process works it: a later
        message never overtakes it."""
        now = utcnow()
        oldest = (
            select(InboxRow.id)
            .where(InboxRow.user_key == user_key, InboxRow.status == "pending")
            .order_by(InboxRow.id)
            .limit(1)
            .scalar_subquery()
        )
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(InboxRow)
                .where(InboxRow.id == oldest, InboxRow.status == "pending")
                .where(due(now), free_for(self.worker, now))
                .values(claimed_by=self.worker, lease_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            if deleted(claimed) != 1:
                return None
            # the row just claimed: this user's oldest pending one, now ours
            query = select(InboxRow).where(InboxRow.user_key == user_key, InboxRow.status == "pending")
            query = query.where(InboxRow.claimed_by == self.worker).order_by(InboxRow.id).limit(1)
            row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        channel, user = split_user_key(row.user_key)
        media = media_ref(row.kind, row.text)
        message = InboundMessage(
            channel=channel,
            user=user,
            text=media[1] if media else row.text,
            kind=Kind(row.kind),
            attachment=media[0] if media else None,
            platform_id=row.platform_id,
            language_hint=row.language_hint,
            received_at=as_utc(row.received_at),
        )
        return Inbound(row.id, message, row.attempts, row.failures)

    async def renew(self, inbound_ids: list[int]) -> None:
        """Extend this process's claims on messages it is still working (a slow Rasa answer)."""
        if not inbound_ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id.in_(inbound_ids), InboxRow.claimed_by == self.worker)
                .values(lease_until=utcnow() + self.lease)
            )

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
                .values(attempts=InboxRow.attempts + 1, next_attempt_at=later, lease_until=None, **values)
            )

    async def park(self, inbound: Inbound, reason: str, language: str, replies: list[Reply]) -> None:
        now = utcnow()
        message = inbound.message
        async with self._sessions.begin() as session:
            closed = await self._close(
                session,
                inbound.id,
                status="parked",
                processed_at=now,
                text="",
                error=reason,
                failures=InboxRow.failures + 1,
                attempts=InboxRow.attempts + 1,
            )
            if closed:
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
            # the text is not kept
            if await self._close(session, inbound.id, status="done", processed_at=now, text=""):
                for reply in replies:
                    session.add(outbox_row(message.channel, message.user_key, language, reply, now, kind))

    async def _close(self, session: AsyncSession, inbound_id: int, **values: object) -> bool:
        """End this process's work on a message; False when the claim was lost meanwhile (this process
        stalled past its lease and another one took the message over): then its replies are not ours
        to queue, the other process queues them."""
        result = await session.execute(
            update(InboxRow)
            .where(InboxRow.id == inbound_id, InboxRow.status == "pending")
            .where(InboxRow.claimed_by == self.worker)
            .values(lease_until=None, **values)
        )
        if deleted(result) == 1:
            return True
        log.warning("inbox message %d was taken over by another process; its result is dropped", inbound_id)
        return False

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
