"""Ticket facts for statistics and search, and the overdue claim, on SQLite and the local PostgreSQL:
the periods, weeks and medians the dashboard shows come out the same on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.sql.database import MIGRATIONS, create_engine, migrate, sync_url
from bot.adapters.sql.mediators import SqlMediatorStore
from bot.adapters.sql.overview import SqlTicketOverview
from bot.adapters.sql.tables import TicketRow
from bot.adapters.sql.tickets import SqlTicketStore
from bot.conversation.overview import Overview, week_of
from bot.core.clock import utcnow
from bot.core.overview import TicketQuery
from bot.core.tickets import NewTicket, Outcome, Role, Status
from tests.helpers.databases import database

WEEK_45 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)  # a Monday


@dataclass
class Desk:
    engine: AsyncEngine
    tickets: SqlTicketStore
    overview: SqlTicketOverview
    mediators: SqlMediatorStore


@pytest.fixture(params=["sqlite", "postgresql"])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    with database(request.param, tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        yield Desk(engine, SqlTicketStore(engine), SqlTicketOverview(engine), SqlMediatorStore(engine))
        await engine.dispose()


async def opened(
    desk: Desk,
    at: datetime,
    city: str = "caserta",
    topic: str | None = "eviction",
    language: str = "ar",
    due_in: timedelta = timedelta(days=2),
    reply_after: timedelta | None = None,
    user: str = "telegram:1",
) -> str:
    """A ticket opened at ``at`` (the store opens it now: the test moves it back in time)."""
    province = {"caserta": "CE", "roma": "RM"}[city]
    ticket = await desk.tickets.open(
        NewTicket(city, province, language, topic, False, "telegram", user, "", utcnow() + due_in)
    )
    values: dict[str, object] = {"created_at": at, "due_at": at + due_in}
    if reply_after is not None:
        values["first_reply_at"] = at + reply_after
    async with desk.engine.begin() as connection:
        await connection.execute(update(TicketRow).where(TicketRow.id == ticket.id).values(**values))
    return ticket.id


async def test_statistics_weeks_medians_and_overdue_from_the_database(desk: Desk) -> None:
    await opened(desk, WEEK_45, reply_after=timedelta(hours=2))
    await opened(desk, WEEK_45 + timedelta(days=6, hours=13), reply_after=timedelta(hours=6))  # Sunday
    third = await opened(desk, WEEK_45 + timedelta(days=14), language="fr", topic="tax_code")
    await opened(desk, WEEK_45 + timedelta(days=14), city="roma")
    recent_at = utcnow() - timedelta(hours=1)
    await opened(desk, recent_at, reply_after=timedelta(minutes=20))
    coordinator = await desk.mediators.add(
        "c@x.it", "C", Role.COORDINATOR, ["caserta"], ["it"], "a long password 1"
    )
    await desk.tickets.close(coordinator, third, Outcome.REFERRED)
    overview = Overview(desk.overview)
    until = WEEK_45 + timedelta(days=20)  # to the Sunday of week 47
    stats = await overview.statistics(coordinator, "caserta", WEEK_45, until)
    assert stats.total == 3
    assert stats.by_week == [("2026-W45", 2), ("2026-W46", 0), ("2026-W47", 1)]
    assert stats.by_topic == [("eviction", 2), ("tax_code", 1)]
    assert stats.by_language == [("ar", 2), ("fr", 1)]
    assert stats.by_outcome == [("open", 2), ("referred_to_service", 1)]
    assert stats.median_first_reply == timedelta(hours=4)
    # open now: the two of week 45 (overdue since November) and the recent one (due in two days)
    assert (stats.open_now, stats.overdue_now) == (3, 2)
    everything = await overview.statistics(coordinator, None)
    assert everything.total == 4 and everything.by_week[-1] == (week_of(recent_at), 1)
    assert everything.median_first_reply == timedelta(hours=2)  # 20 min, 2 h, 6 h


async def test_find_by_id_topic_language_status_and_dates_within_the_cities(desk: Desk) -> None:
    first = await opened(desk, WEEK_45)
    second = await opened(desk, WEEK_45 + timedelta(days=3), topic="tax_code", language="fr")
    await opened(desk, WEEK_45, city="roma")

    async def ids(**fields: object) -> list[str]:
        return [t.id for t in await desk.overview.find(TicketQuery(("caserta",), **fields))]  # type: ignore[arg-type]

    assert await ids() == [second, first]  # newest first, never roma's
    assert await ids(id_contains=first.lower()[-6:]) == [first]
    assert await ids(id_contains="%") == [] and await ids(id_contains="_") == []  # LIKE's wildcards are text
    assert await ids(topic="tax_code") == [second] and await ids(language="ar") == [first]
    assert await ids(status=Status.NEW) == [second, first] and await ids(status=Status.CLOSED) == []
    assert await ids(opened_from=WEEK_45 + timedelta(days=1)) == [second]
    assert await ids(opened_until=WEEK_45 + timedelta(days=1)) == [first]
    assert await ids(limit=1) == [second]
    assert await desk.overview.find(TicketQuery(())) == []


async def test_the_first_reply_is_kept_on_the_ticket(desk: Desk) -> None:
    ticket_id = await opened(desk, utcnow())
    amal = await desk.mediators.add("a@x.it", "A", Role.MEDIATOR, ["caserta"], ["ar"], "a long password 1")
    await desk.tickets.reply(amal, ticket_id, "first")
    [first] = await desk.overview.find(TicketQuery(("caserta",)))
    assert first.first_reply_at is not None
    await desk.tickets.reply(amal, ticket_id, "second")
    [again] = await desk.overview.find(TicketQuery(("caserta",)))
    assert again.first_reply_at == first.first_reply_at


async def test_an_overdue_ticket_is_claimed_once_by_concurrent_claims(desk: Desk) -> None:
    late = [await opened(desk, utcnow() - timedelta(days=3), user=f"telegram:{n}") for n in range(5)]
    await opened(desk, utcnow(), user="telegram:9")  # not due yet
    claims = await asyncio.gather(*(desk.overview.claim_overdue(utcnow()) for _ in range(4)))
    claimed = sorted(t.id for claim in claims for t in claim)
    assert claimed == sorted(late)
    assert await desk.overview.claim_overdue(utcnow()) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0008_keeps_the_first_reply_of_tickets_replied_before_it(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
        command.upgrade(config, "0007")
        engine = create_sync_engine(sync_url(url))
        replied = datetime(2026, 11, 3, 9, 30)
        later = (utcnow() + timedelta(days=2)).replace(tzinfo=None)
        with engine.begin() as connection:
            for ticket_id, due in (("CE-2026-0001", datetime(2026, 11, 2, 9)), ("CE-2026-0002", later)):
                connection.execute(
                    text(
                        "insert into tickets (id, city, language, urgent, channel, status, details,"
                        " created_at, due_at, staff_notified) values (:id, 'caserta', 'ar', false,"
                        " 'telegram', 'new', '', :at, :at, false)"
                    ),
                    {"id": ticket_id, "at": due},
                )
            for author, at in (("user", datetime(2026, 11, 3, 9, 0)), ("mediator", replied)):
                connection.execute(
                    text(
                        "insert into ticket_entries (ticket_id, author, text, at)"
                        " values ('CE-2026-0001', :a, 'x', :at)"
                    ),
                    {"a": author, "at": at},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = dict(connection.execute(text("select id, first_reply_at from tickets order by id")).all())
        first = rows["CE-2026-0001"]
        assert (first if isinstance(first, datetime) else datetime.fromisoformat(str(first))).replace(
            tzinfo=None
        ) == replied
        assert rows["CE-2026-0002"] is None
        with engine.connect() as connection:
            told = dict(connection.execute(text("select id, overdue_notified from tickets")).all())
        # overdue before the upgrade: in the queue already, not announced as a backlog; the other one will be
        assert told == {"CE-2026-0001": True, "CE-2026-0002": False}
        command.downgrade(config, "0007")
        assert "missed_messages" not in inspect(engine).get_table_names()
        engine.dispose()
