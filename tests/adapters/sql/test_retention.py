"""Retention on the SQL stores and Rasa's tracker: what is older than its period goes, the rest stays,
and on SQLite the erased words leave no trace in the database file or its write-ahead log."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.rasa.tracker import RasaTracker
from bot.adapters.sql.database import create_engine, flush_erased, migrate
from bot.adapters.sql.tables import AuditRow, InboxRow, OutboxRow, TicketRow, UserRefRow
from bot.adapters.sql.tickets import SqlTicketStore
from bot.core.clock import utcnow
from bot.core.messages import InboundMessage, Reply
from bot.core.tickets import Mediator, NewTicket, Outcome, Role
from tests.helpers.databases import Mailbox

WORDS = "the owner put our mattresses on the landing"
DAYS_AGO_40 = timedelta(days=40)


@pytest.fixture()
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    created = create_engine(url)
    yield created
    await created.dispose()


async def age(engine: AsyncEngine, table: type, column: str, by: timedelta) -> None:
    """Make every row of ``table`` older by ``by`` (as if the rows had been written then)."""
    async with async_sessionmaker(engine).begin() as session:
        await session.execute(update(table).values({column: utcnow() - by}))


async def test_answered_inbox_and_sent_outbox_rows_expire(engine: AsyncEngine) -> None:
    mailbox = Mailbox(engine)
    await mailbox.inbox.receive(InboundMessage("telegram", "1", WORDS, platform_id="1"))
    inbound = await mailbox.inbox.next_for("telegram:1")
    assert inbound is not None
    await mailbox.inbox.finish(inbound, "en", [Reply("an answer with the user's situation")])
    [row] = await mailbox.outbox_rows("telegram:1")
    await mailbox.outbox.sent(row.id, "m1")
    await age(engine, InboxRow, "received_at", DAYS_AGO_40)
    await age(engine, OutboxRow, "created_at", DAYS_AGO_40)
    await mailbox.inbox.receive(InboundMessage("telegram", "1", "a new question", platform_id="2"))
    await mailbox.outbox.queue("telegram", "telegram:1", "en", [Reply("not sent yet")])

    assert await mailbox.inbox.purge_answered(timedelta(days=30)) == 1
    assert await mailbox.outbox.purge_sent(timedelta(days=30)) == 1
    assert await mailbox.inbox.pending_users() == ["telegram:1"], "the unanswered message stays"
    assert [r.text for r in await mailbox.outbox_rows("telegram:1")] == ["not sent yet"]


async def test_closed_tickets_lose_their_words_and_the_link_to_the_users_address(engine: AsyncEngine) -> None:
    tickets = SqlTicketStore(engine)
    anna = Mediator(1, "anna@roma.example", "Anna", Role.MEDIATOR, ("roma",), ("it",))
    new = NewTicket("roma", "RM", "it", "eviction", True, "whatsapp", "whatsapp:3933", WORDS, utcnow())
    old, still_open = await tickets.open(new), await tickets.open(new)
    other_user = await tickets.open(NewTicket(**{**new.__dict__, "user_key": "whatsapp:3944"}))
    for ticket in (old, other_user):
        await tickets.close(anna, ticket.id, Outcome.RESOLVED)
    await age(engine, TicketRow, "closed_at", timedelta(days=200))
    await tickets.audit(anna, "view", old.id)
    await age(engine, AuditRow, "at", timedelta(days=800))
    await tickets.audit(anna, "view", still_open.id)

    assert await tickets.purge_closed(timedelta(days=180)) == 2
    assert await tickets.purge_audit(timedelta(days=730)) == 3  # two closings and a view, all aged
    async with async_sessionmaker(engine)() as session:
        left = (await session.execute(select(AuditRow.action, AuditRow.ticket_id))).all()
    assert [tuple(row) for row in left] == [("view", still_open.id)]
    purged = await tickets.get(old.id)
    assert (purged.details, purged.transcript, purged.user_ref) == ("", [], "")
    assert await tickets.user_key_of(purged) is None
    assert await tickets.user_key_of(await tickets.get(still_open.id)) == "whatsapp:3933", "still needed"
    async with async_sessionmaker(engine)() as session:
        refs = (await session.execute(select(UserRefRow.user_key))).scalars().all()
    assert refs == ["whatsapp:3933"], "the other user's address went with their last ticket"


def tracker_file(path: Path, ages: list[float]) -> RasaTracker:
    connection = sqlite3.connect(path)
    connection.execute(
        "create table events (id integer primary key, sender_id varchar(255), type_name varchar(255),"
        " timestamp float, intent_name varchar(255), action_name varchar(255), data text)"
    )
    for seconds in ages:
        row = ("telegram:1", "user", time.time() - seconds, json.dumps({"text": f"{WORDS} {seconds}"}))
        connection.execute("insert into events (sender_id, type_name, timestamp, data) values (?,?,?,?)", row)
    connection.commit()
    connection.close()
    return RasaTracker(path)


async def test_rasas_tracker_keeps_no_event_past_the_period(tmp_path: Path) -> None:
    tracker = tracker_file(tmp_path / "tracker.db", [40 * 86400, 35 * 86400, 3600])
    assert await tracker.purge_older_than(timedelta(days=30)) == 2
    [left] = await tracker.conversation("telegram:1")
    assert left.text == f"{WORDS} 3600"
    assert WORDS.encode() + b" 3024000" not in (tmp_path / "tracker.db").read_bytes()  # overwritten


async def test_erased_words_leave_no_bytes_in_the_sqlite_files(tmp_path: Path, engine: AsyncEngine) -> None:
    mailbox = Mailbox(engine)
    await mailbox.outbox.queue("telegram", "telegram:1", "en", [Reply(WORDS)])
    await mailbox.outbox.erase_user("telegram:1")
    await flush_erased(engine)
    for path in tmp_path.glob("gateway.db*"):
        assert WORDS.encode() not in path.read_bytes(), path.name
