"""Attachments on SQLAlchemy and the data folder: a row per file (ticket, user key, kind, size, type,
sha256, when) and its bytes in ``AttachmentFiles``. The ticket store's erasure deletes both with a
ticket's words; ``erase_user`` and ``sweep`` are /forget's and retention's own passes."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.attachment_files import AttachmentFiles
from bot.adapters.sql.tables import AttachmentRow
from bot.core.attachments import Attachment
from bot.core.clock import as_utc, utcnow
from bot.core.errors import AttachmentNotFound


def attachment_of(row: AttachmentRow) -> Attachment:
    return Attachment(
        id=row.id,
        ticket_id=row.ticket_id,
        kind=row.kind,
        size=row.size,
        content_type=row.content_type,
        sha256=row.sha256,
        created_at=as_utc(row.created_at),
    )


class SqlAttachmentStore:
    def __init__(self, engine: AsyncEngine, files: AttachmentFiles) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.files = files

    async def add(
        self, ticket_id: str, user_key: str, kind: str, content_type: str, content: bytes
    ) -> Attachment:
        """The bytes first, then the row: a crash in between leaves a file ``sweep`` removes."""
        name = await self.files.write(content)
        row = AttachmentRow(
            ticket_id=ticket_id,
            user_key=user_key,
            kind=kind,
            size=len(content),
            content_type=content_type,
            sha256=hashlib.sha256(content).hexdigest(),
            file_name=name,
            created_at=utcnow(),
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return attachment_of(row)

    async def for_ticket(self, ticket_id: str) -> list[Attachment]:
        query = select(AttachmentRow).where(AttachmentRow.ticket_id == ticket_id).order_by(AttachmentRow.id)
        async with self._sessions() as session:
            return [attachment_of(row) for row in (await session.execute(query)).scalars()]

    async def read(self, ticket_id: str, attachment_id: int) -> tuple[Attachment, bytes]:
        async with self._sessions() as session:
            row = await session.get(AttachmentRow, attachment_id)
        if row is None or row.ticket_id != ticket_id:
            raise AttachmentNotFound(ticket_id)
        try:
            content = await self.files.read(row.file_name)
        except FileNotFoundError:
            raise AttachmentNotFound(ticket_id) from None
        return attachment_of(row), content

    async def erase_user(self, user_key: str) -> int:
        async with self._sessions.begin() as session:
            mine = AttachmentRow.user_key == user_key
            names = list((await session.execute(select(AttachmentRow.file_name).where(mine))).scalars())
            await session.execute(delete(AttachmentRow).where(mine))
        await self.files.remove(names)
        return len(names)

    async def sweep(self) -> int:
        async with self._sessions() as session:
            known = set((await session.execute(select(AttachmentRow.file_name))).scalars())
        orphans = await self.files.orphans(known)
        await self.files.remove_orphans(orphans)
        return len(orphans)
