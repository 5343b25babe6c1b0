"""Missed messages on SQLite and the local PostgreSQL: kept without a user, visible by city, marked
once, purged after the retention period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from bot.adapters.sql.database import create_engine, migrate, sync_url
from bot.adapters.sql.missed import SqlMissedMessages
from bot.core.clock import utcnow
from bot.core.overview import Decision, MissedMessage, MissKind
from tests.helpers.databases import database


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SqlMissedMessages, str]]:
    with database(request.param, tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        yield SqlMissedMessages(engine), url
        await engine.dispose()


def miss(text: str, city: str | None, days_ago: float = 0, language: str = "it") -> MissedMessage:
    at = utcnow() - timedelta(days=days_ago)
    return MissedMessage(text, language, MissKind.NOT_UNDERSTOOD, "tax_code", 0.25, city, at)


async def test_the_table_has_no_column_for_a_user_or_a_ticket(store: tuple[SqlMissedMessages, str]) -> None:
    _, url = store
    columns = {c["name"] for c in inspect(create_sync_engine(sync_url(url))).get_columns("missed_messages")}
    assert columns == {
        "id",
        "text",
        "language",
        "kind",
        "topic",
        "confidence",
        "city",
        "at",
        "decision",
        "decision_topic",
    }


async def test_visible_by_city_and_marked_once(store: tuple[SqlMissedMessages, str]) -> None:
    missed, _ = store
    for message in (miss("dove codice fiscale", "caserta"), miss("cf dove", "roma"), miss("boh", None)):
        await missed.record(message)
    mine = await missed.undecided(("caserta",), without_city=False)
    assert [m.text for m in mine] == ["dove codice fiscale"] and mine[0].confidence == pytest.approx(0.25)
    everyone = await missed.undecided(("caserta", "roma"), without_city=True)
    assert len(everyone) == 3
    ids = [m.id for m in everyone]
    assert await missed.decide(ids, ("caserta",), False, Decision.EXAMPLE, "tax_code") == 1
    assert await missed.decide(ids, ("caserta",), False, Decision.EXAMPLE, "tax_code") == 0
    assert await missed.decide(ids, ("roma",), True, Decision.OUT_OF_SCOPE, None) == 2
    [example] = await missed.decided(Decision.EXAMPLE)
    assert (example.text, example.decision_topic, example.decision) == (
        "dove codice fiscale",
        "tax_code",
        Decision.EXAMPLE,
    )
    assert len(await missed.decided(Decision.OUT_OF_SCOPE)) == 2
    assert await missed.undecided(("caserta", "roma"), True) == []


async def test_retention_deletes_old_missed_messages_with_their_text(
    store: tuple[SqlMissedMessages, str],
) -> None:
    missed, url = store
    await missed.record(miss("vecchio messaggio", "caserta", days_ago=31))
    await missed.record(miss("nuovo messaggio", "caserta", days_ago=1))
    assert await missed.purge_older_than(timedelta(days=30)) == 1
    with create_sync_engine(sync_url(url)).connect() as connection:
        texts = [row[0] for row in connection.execute(text("select text from missed_messages"))]
    assert texts == ["nuovo messaggio"]


async def test_erase_texts_deletes_exactly_those_words(store: tuple[SqlMissedMessages, str]) -> None:
    missed, _ = store
    for words in ("dove codice fiscale", "dove codice fiscale?", "altro"):
        await missed.record(miss(words, "caserta"))
    assert await missed.erase_texts(["dove codice fiscale", "nessuno"]) == 1
    assert sorted(m.text for m in await missed.undecided(("caserta",), False)) == [
        "altro",
        "dove codice fiscale?",
    ]
