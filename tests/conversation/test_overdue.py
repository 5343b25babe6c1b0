"""Overdue tickets told to the staff group once: on the fakes, and with two gateways (two engines) on one
SQLite or PostgreSQL database racing for the same tickets."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.adapters.events import MemoryTicketEvents
from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.overview import SqlTicketOverview
from bot.adapters.sql.tables import TicketRow
from bot.adapters.sql.tickets import SqlTicketStore
from bot.conversation.handoff import Handoff
from bot.conversation.overdue import OverdueAlerts
from bot.core.catalog import Catalog
from bot.core.clock import utcnow
from bot.core.i18n import Translations
from bot.core.overview import TicketFacts
from bot.core.ports import Outbox, TicketStore
from bot.core.settings import PROJECT_DIR
from bot.core.tickets import NewTicket, Status
from bot.knowledge import KnowledgeStore
from tests.fakes.reports import MemoryTicketOverview
from tests.fakes.stores import MemoryOutbox, MemoryTicketStore, MemoryTranscript
from tests.helpers.databases import Mailbox, database

STAFF = "telegram:-100200300"


def handoff(tickets: TicketStore, outbox: Outbox, translations: Translations, catalog: Catalog) -> Handoff:
    return Handoff(
        tickets=tickets,
        transcript=MemoryTranscript(),
        events=MemoryTicketEvents(),
        outbox=outbox,
        translations=translations,
        catalog=catalog,
        knowledge=KnowledgeStore(PROJECT_DIR / "knowledge"),
        staff_chat=STAFF,
        dashboard_url="https://sportello.example",
    )


def late(ticket_id: str, urgent: bool = False) -> TicketFacts:
    now = utcnow()
    return TicketFacts(
        ticket_id,
        "caserta",
        "ar",
        "eviction",
        urgent,
        Status.NEW,
        None,
        now - timedelta(days=3),
        now - timedelta(hours=1),
    )


async def test_an_overdue_ticket_is_told_once_with_its_link_and_nothing_of_the_user(
    translations: Translations, catalog: Catalog
) -> None:
    outbox = MemoryOutbox()
    store = MemoryTicketOverview([late("CE-2026-0001", urgent=True)])
    alerts = OverdueAlerts(store, handoff(MemoryTicketStore(), outbox, translations, catalog))
    assert await alerts.announce() == 1
    assert await alerts.announce() == 0
    [row] = outbox.rows(STAFF)
    text = row.outbound.reply.text
    it = translations("it")
    assert text.startswith(
        it._("Overdue request {ticket} ({city}, {language}, {topic}){urgent}: {link}").split(" {")[0]
    )
    assert "https://sportello.example/dashboard/tickets/CE-2026-0001" in text and it._("URGENT") in text


async def test_without_a_staff_group_nothing_is_claimed(translations: Translations, catalog: Catalog) -> None:
    store = MemoryTicketOverview([late("CE-2026-0001")])
    desk = handoff(MemoryTicketStore(), MemoryOutbox(), translations, catalog)
    desk.staff_chat = ""
    assert await OverdueAlerts(store, desk).announce() == 0
    assert store.announced == set()  # a group set later still hears of it


async def test_the_worker_beats_and_announces_each_round(
    translations: Translations, catalog: Catalog
) -> None:
    outbox = MemoryOutbox()
    store = MemoryTicketOverview([late("CE-2026-0001")])
    alerts = OverdueAlerts(store, handoff(MemoryTicketStore(), outbox, translations, catalog), timedelta(0))
    beats: list[int] = []

    def beat() -> None:
        beats.append(1)
        if len(beats) == 3:
            raise asyncio.CancelledError  # the supervisor stopping it

    with pytest.raises(asyncio.CancelledError):
        await alerts.run(beat)
    assert len(outbox.rows(STAFF)) == 1 and len(beats) == 3


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_two_gateways_announce_each_overdue_ticket_exactly_once(
    kind: str, tmp_path: Path, translations: Translations, catalog: Catalog
) -> None:
    with database(kind, tmp_path) as url:
        migrate(url)
        engines = [create_engine(url), create_engine(url)]
        try:
            tickets = SqlTicketStore(engines[0])
            opened = []
            for n in range(6):
                opened.append(
                    await tickets.open(
                        NewTicket(
                            "caserta",
                            "CE",
                            "ar",
                            "eviction",
                            False,
                            "telegram",
                            f"telegram:{n}",
                            "",
                            utcnow() + timedelta(days=1),
                        )
                    )
                )
            overdue = {t.id for t in opened[:4]}
            async with engines[0].begin() as connection:
                await connection.execute(
                    update(TicketRow)
                    .where(TicketRow.id.in_(overdue))
                    .values(due_at=utcnow() - timedelta(minutes=5))
                )
            mailbox = Mailbox(engines[0])
            gateways = [
                OverdueAlerts(
                    SqlTicketOverview(engine),
                    handoff(SqlTicketStore(engine), Mailbox(engine).outbox, translations, catalog),
                )
                for engine in engines
            ]
            for _ in range(3):
                counts = await asyncio.gather(*(g.announce() for g in gateways))
            rows = await mailbox.outbox_rows(STAFF)
            told = sorted(ticket_id for row in rows for ticket_id in overdue if ticket_id in row.text)
            assert told == sorted(overdue)  # each overdue ticket once, the others never
            assert sum(counts) == 0 and len(rows) == 4
        finally:
            for engine in engines:
                await engine.dispose()
