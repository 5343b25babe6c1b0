"""Erasing and expiring what tickets keep of a user: /forget, and retention of closed tickets' words
and attachments (rows and files), the links from tickets to channel addresses (``user_refs``) and the
audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.sql.attachment_files import AttachmentFiles
from bot.adapters.sql.database import deleted
from bot.adapters.sql.tables import (
    AttachmentRow,
    AuditRow,
    TicketEntryRow,
    TicketNoteRow,
    TicketRow,
    UserRefRow,
)
from bot.core.clock import utcnow
from bot.core.tickets import Status


async def ref_row(session: AsyncSession, user_key: str) -> UserRefRow | None:
    """The pseudonymous reference of a user's channel address, if they ever opened a ticket."""
    return (await session.execute(select(UserRefRow).where(UserRefRow.user_key == user_key))).scalar()


class TicketErasure:
    """The erasing half of the SQL ticket store (``SqlTicketStore`` mixes it in)."""

    _sessions: async_sessionmaker[AsyncSession]
    # where attachments' bytes are (None: only their rows go; ``SqlAttachmentStore.sweep`` takes the rest)
    _files: AttachmentFiles | None

    # privacy -----------------------------------------------------------------------------------
    async def erase_user(self, user_key: str) -> int:
        """Delete the user's words everywhere in tickets; keep topic, city and outcome for statistics."""
        async with self._sessions.begin() as session:
            ref = await ref_row(session, user_key)
            if ref is None:
                return 0
            ids = list(
                (await session.execute(select(TicketRow.id).where(TicketRow.user_ref == ref.ref))).scalars()
            )
            files = await self._strip(session, ids)
            await session.execute(
                update(TicketRow)
                .where(TicketRow.id.in_(ids))
                .values(
                    user_ref=None,
                    details="",
                    status=Status.CLOSED.value,
                    outcome=TicketRow.outcome,
                    closed_at=utcnow(),
                )
            )
            await session.execute(delete(UserRefRow).where(UserRefRow.ref == ref.ref))
        await self._remove_files(files)
        return len(ids)

    async def purge_closed(self, older_than: timedelta) -> int:
        """Retention: tickets closed before now - older_than lose their words and their link to the user's
        channel address; the address itself goes once no open ticket of the user needs it."""
        limit = utcnow() - older_than
        async with self._sessions.begin() as session:
            old = TicketRow.status == Status.CLOSED.value, TicketRow.closed_at < limit
            ids = list((await session.execute(select(TicketRow.id).where(*old))).scalars())
            files = await self._strip(session, ids)
            values = {"details": "", "user_ref": None}
            await session.execute(update(TicketRow).where(TicketRow.id.in_(ids)).values(**values))
            still_needed = select(TicketRow.user_ref).where(TicketRow.user_ref.is_not(None))
            await session.execute(delete(UserRefRow).where(UserRefRow.ref.not_in(still_needed)))
        await self._remove_files(files)
        return len(ids)

    async def purge_audit(self, older_than: timedelta) -> int:
        """Retention of the audit log itself (who looked at what, from where)."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(AuditRow).where(AuditRow.at < utcnow() - older_than))
            return deleted(result)

    async def _strip(self, session: AsyncSession, ticket_ids: list[str]) -> list[str]:
        """Delete the tickets' words and attachment rows; the attachments' file names, to remove once
        the transaction is committed."""
        await session.execute(delete(TicketEntryRow).where(TicketEntryRow.ticket_id.in_(ticket_ids)))
        await session.execute(delete(TicketNoteRow).where(TicketNoteRow.ticket_id.in_(ticket_ids)))
        theirs = AttachmentRow.ticket_id.in_(ticket_ids)
        files = list((await session.execute(select(AttachmentRow.file_name).where(theirs))).scalars())
        await session.execute(delete(AttachmentRow).where(theirs))
        return files

    async def _remove_files(self, names: list[str]) -> None:
        if self._files is not None and names:
            await self._files.remove(names)
