"""Ticket rows read back as the domain's ``Ticket`` (with transcript, notes and the mediators' names)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.sql.tables import MediatorRow, TicketEntryRow, TicketNoteRow, TicketRow
from bot.core.clock import as_utc
from bot.core.tickets import Author, Entry, Note, Outcome, Status, Ticket


async def load_ticket(session: AsyncSession, row: TicketRow, full: bool = True) -> Ticket:
    """A ticket row as the domain's ``Ticket``; ``full``: with its transcript and notes."""
    entries: list[Entry] = []
    notes: list[Note] = []
    names = await mediator_names(session)
    if full:
        for e in (
            await session.execute(
                select(TicketEntryRow)
                .where(TicketEntryRow.ticket_id == row.id)
                .order_by(TicketEntryRow.id)
            )
        ).scalars():
            entries.append(Entry(Author(e.author), e.text, as_utc(e.at), names.get(e.mediator_id or -1)))
        for n in (
            await session.execute(
                select(TicketNoteRow).where(TicketNoteRow.ticket_id == row.id).order_by(TicketNoteRow.id)
            )
        ).scalars():
            notes.append(Note(n.text, as_utc(n.at), names.get(n.mediator_id, "?")))
    return Ticket(
        id=row.id,
        city=row.city,
        language=row.language,
        topic=row.topic,
        urgent=row.urgent,
        channel=row.channel,
        user_ref=row.user_ref or "",
        status=Status(row.status),
        assignee=names.get(row.assignee_id) if row.assignee_id else None,
        created_at=as_utc(row.created_at),
        due_at=as_utc(row.due_at),
        details=row.details,
        outcome=Outcome(row.outcome) if row.outcome else None,
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
        transcript=entries,
        notes=notes,
        assignee_id=row.assignee_id,
        staff_notified=bool(row.staff_notified),
    )

async def mediator_names(session: AsyncSession) -> dict[int, str]:
    return {m.id: m.name for m in (await session.execute(select(MediatorRow))).scalars()}
