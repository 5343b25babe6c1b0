"""Statistics, search and CSV of the overview use case, on the in-memory fake (the SQL adapter runs the
same on SQLite and PostgreSQL in tests/adapters/sql/test_overview.py)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from bot.conversation.overview import Overview, as_csv, compute, neutral, week_of, weeks_between
from bot.core.errors import CityNotAllowed
from bot.core.overview import TicketFacts, TicketQuery
from bot.core.tickets import Mediator, Outcome, Role, Status
from tests.fakes.reports import MemoryTicketOverview

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # ISO week 45


def ticket(
    number: int,
    opened: datetime,
    city: str = "caserta",
    topic: str | None = "eviction",
    language: str = "ar",
    reply_after: timedelta | None = None,
    outcome: Outcome | None = None,
    due_in: timedelta = timedelta(days=2),
) -> TicketFacts:
    return TicketFacts(
        id=f"{city[:2].upper()}-2026-{number:04d}",
        city=city,
        language=language,
        topic=topic,
        urgent=False,
        status=Status.CLOSED if outcome else Status.NEW,
        outcome=outcome,
        created_at=opened,
        due_at=opened + due_in,
        first_reply_at=opened + reply_after if reply_after else None,
        closed_at=opened + timedelta(days=1) if outcome else None,
    )


def mediator(cities: tuple[str, ...] = ("caserta",), role: Role = Role.MEDIATOR) -> Mediator:
    return Mediator(1, "amal@example.org", "Amal", role, cities, ("ar",))


def test_weeks_are_iso_weeks_and_quiet_weeks_count() -> None:
    assert week_of(MONDAY) == "2026-W45"
    assert week_of(datetime(2027, 1, 1, tzinfo=timezone.utc)) == "2026-W53"
    assert weeks_between(MONDAY, MONDAY + timedelta(days=20)) == ["2026-W45", "2026-W46", "2026-W47"]


def test_statistics_count_per_topic_language_outcome_and_week_with_the_median_reply() -> None:
    opened = [
        ticket(1, MONDAY, reply_after=timedelta(hours=1), outcome=Outcome.RESOLVED),
        ticket(2, MONDAY + timedelta(days=1), reply_after=timedelta(hours=3)),
        ticket(
            3, MONDAY + timedelta(days=15), topic="tax_code", language="fr", reply_after=timedelta(hours=10)
        ),
        ticket(4, MONDAY + timedelta(days=15), topic=None, language="fr"),
    ]
    now = MONDAY + timedelta(days=30)
    stats = compute(("caserta",), opened, [t for t in opened if t.status is not Status.CLOSED], now)
    assert stats.total == 4
    assert stats.by_topic == [("eviction", 2), ("-", 1), ("tax_code", 1)]
    assert stats.by_language == [("ar", 2), ("fr", 2)]
    assert stats.by_outcome == [("open", 3), ("resolved", 1)]
    assert stats.by_week == [("2026-W45", 2), ("2026-W46", 0), ("2026-W47", 2)]
    assert stats.median_first_reply == timedelta(hours=3) and stats.replied == 3
    assert (stats.open_now, stats.overdue_now) == (3, 3)


def test_an_even_number_of_replies_has_the_middle_of_the_two_as_median() -> None:
    opened = [
        ticket(1, MONDAY, reply_after=timedelta(hours=1)),
        ticket(2, MONDAY, reply_after=timedelta(hours=2)),
    ]
    assert compute(("caserta",), opened, [], MONDAY).median_first_reply == timedelta(hours=1, minutes=30)
    assert compute(("caserta",), [], [], MONDAY).median_first_reply is None


def test_a_period_shows_every_week_in_it() -> None:
    period = (MONDAY, MONDAY + timedelta(days=13))  # to Sunday of the week after
    stats = compute(
        ("caserta",), [ticket(1, MONDAY + timedelta(days=8))], [], MONDAY + timedelta(days=30), period
    )
    assert stats.by_week == [("2026-W45", 0), ("2026-W46", 1)]


async def test_statistics_are_of_the_mediators_cities_only() -> None:
    store = MemoryTicketOverview([ticket(1, MONDAY), ticket(2, MONDAY, city="roma")])
    overview = Overview(store)
    stats = await overview.statistics(mediator(("caserta", "napoli")), None)
    assert stats.total == 1 and stats.cities == ("caserta", "napoli")
    assert all(q.cities == ("caserta", "napoli") for q in store.queries)
    with pytest.raises(CityNotAllowed):
        await overview.statistics(mediator(), "roma")
    with pytest.raises(CityNotAllowed):
        await overview.tickets_csv(mediator(), "roma")


async def test_search_finds_closed_tickets_by_id_topic_language_status_and_date() -> None:
    closed = ticket(7, MONDAY, outcome=Outcome.REFERRED)
    store = MemoryTicketOverview([closed, ticket(8, MONDAY + timedelta(days=3), language="fr")])
    overview = Overview(store)
    who = mediator()
    assert [t.id for t in await overview.search(who, TicketQuery((), id_contains="ca-2026-0007"))] == [
        closed.id
    ]
    assert [t.id for t in await overview.search(who, TicketQuery((), status=Status.CLOSED))] == [closed.id]
    assert [t.language for t in await overview.search(who, TicketQuery((), language="fr"))] == ["fr"]
    until = MONDAY + timedelta(days=1)
    assert [t.id for t in await overview.search(who, TicketQuery((), opened_until=until))] == [closed.id]
    with pytest.raises(CityNotAllowed):
        await overview.search(who, TicketQuery(("roma",)))


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell: str) -> None:
    assert neutral(cell) == "'" + cell
    [header, row] = list(csv.reader(io.StringIO(as_csv(["=a"], [[cell]]))))
    assert header == ["'=a"] and row == ["'" + cell]


async def test_the_csv_has_one_line_per_ticket_and_nothing_of_the_user() -> None:
    overview = Overview(MemoryTicketOverview([ticket(1, MONDAY, reply_after=timedelta(hours=2))]))
    rows = list(csv.DictReader(io.StringIO(await overview.tickets_csv(mediator(), "caserta"))))
    assert len(rows) == 1
    assert rows[0]["ticket"] == "CA-2026-0001" and rows[0]["week"] == "2026-W45"
    assert rows[0]["first_reply_at"] == (MONDAY + timedelta(hours=2)).isoformat()
    assert "user" not in " ".join(rows[0])
