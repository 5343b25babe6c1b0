"""The desk at a glance: statistics of a mediator's cities, search over their tickets (closed ones
included), the same as CSV. Every read is limited to the mediator's cities, here, before the store."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core.clock import utcnow
from bot.core.errors import CityNotAllowed
from bot.core.overview import TicketFacts, TicketQuery
from bot.core.ports import TicketOverview
from bot.core.tickets import Mediator

SEARCH_LIMIT = 200  # a page of results; narrow the search for more
OPEN = "open"  # the outcome column of a ticket that is not closed yet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Statistics:
    """Tickets opened in a period, counted per topic, language, outcome and ISO week; the median time to
    a first reply; and, whatever the period, how many are open and overdue now."""

    cities: tuple[str, ...]
    total: int
    by_topic: list[tuple[str, int]]
    by_language: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    by_week: list[tuple[str, int]]
    replied: int
    median_first_reply: timedelta | None
    open_now: int
    overdue_now: int


def week_of(moment: datetime) -> str:
    """The ISO week of a moment (UTC), as ``2026-W49``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(first: datetime, last: datetime) -> list[str]:
    """Every ISO week from the one of ``first`` to the one of ``last``: a quiet week counts 0."""
    monday = first.date() - timedelta(days=first.weekday())
    end: date = last.date()
    found = []
    while monday <= end:
        found.append(week_of(datetime(monday.year, monday.month, monday.day)))
        monday += timedelta(days=7)
    return found


def counted(values: Iterable[str]) -> list[tuple[str, int]]:
    """Counts, most first, then by name (a stable order for pages and tests)."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))


def median_first_reply(tickets: list[TicketFacts]) -> timedelta | None:
    waits = [(t.first_reply_at - t.created_at).total_seconds() for t in tickets if t.first_reply_at]
    return timedelta(seconds=statistics.median(waits)) if waits else None


def compute(
    cities: tuple[str, ...],
    opened: list[TicketFacts],
    open_now: list[TicketFacts],
    now: datetime,
    period: tuple[datetime | None, datetime | None] = (None, None),
) -> Statistics:
    """The statistics of tickets opened in a period (``opened``) and of those open now."""
    weeks = Counter(week_of(t.created_at) for t in opened)
    first = period[0] or min((t.created_at for t in opened), default=None)
    last = (period[1] - timedelta(microseconds=1)) if period[1] else None
    last = last or max((t.created_at for t in opened), default=None)
    all_weeks = weeks_between(first, min(last, now)) if first and last and opened else []
    return Statistics(
        cities=cities,
        total=len(opened),
        by_topic=counted(t.topic or "-" for t in opened),
        by_language=counted(t.language for t in opened),
        by_outcome=counted(t.outcome.value if t.outcome else OPEN for t in opened),
        by_week=[(week, weeks.get(week, 0)) for week in all_weeks],
        replied=sum(1 for t in opened if t.first_reply_at),
        median_first_reply=median_first_reply(opened),
        open_now=len(open_now),
        overdue_now=sum(1 for t in open_now if t.overdue(now)),
    )


CSV_HEADER = (
    "ticket",
    "city",
    "language",
    "topic",
    "urgent",
    "status",
    "outcome",
    "opened_at",
    "due_at",
    "first_reply_at",
    "closed_at",
    "week",
)


def csv_row(t: TicketFacts) -> list[object]:
    """What a ticket was about and how it went: no user, no words."""
    return [
        t.id,
        t.city,
        t.language,
        t.topic or "",
        "yes" if t.urgent else "no",
        t.status.value,
        t.outcome.value if t.outcome else "",
        t.created_at.isoformat(),
        t.due_at.isoformat(),
        t.first_reply_at.isoformat() if t.first_reply_at else "",
        t.closed_at.isoformat() if t.closed_at else "",
        week_of(t.created_at),
    ]


def neutral(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (``=``, ``+``, ``-``, ``@`` first)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def as_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutral(h) for h in header])
    for row in rows:
        writer.writerow([neutral("" if cell is None else str(cell)) for cell in row])
    return out.getvalue()


@dataclass
class Overview:
    tickets: TicketOverview

    @staticmethod
    def cities(mediator: Mediator, city: str | None) -> tuple[str, ...]:
        """One of the mediator's cities, or all of them; another city is refused."""
        if not city:
            return mediator.cities
        if not mediator.may_see(city):
            raise CityNotAllowed("not a city of yours")
        return (city,)

    async def statistics(
        self,
        mediator: Mediator,
        city: str | None,
        opened_from: datetime | None = None,
        opened_until: datetime | None = None,
    ) -> Statistics:
        cities = self.cities(mediator, city)
        opened = await self.tickets.find(
            TicketQuery(cities, opened_from=opened_from, opened_until=opened_until)
        )
        open_now = await self.tickets.find(TicketQuery(cities, only_open=True))
        return compute(cities, opened, open_now, utcnow(), (opened_from, opened_until))

    async def search(self, mediator: Mediator, query: TicketQuery) -> list[TicketFacts]:
        """The mediator's tickets matching the query (closed ones too), newest first."""
        allowed = tuple(c for c in query.cities if mediator.may_see(c)) if query.cities else mediator.cities
        if query.cities and len(allowed) < len(query.cities):
            raise CityNotAllowed("not a city of yours")
        limit = min(query.limit or SEARCH_LIMIT, SEARCH_LIMIT)
        return await self.tickets.find(
            TicketQuery(
                allowed,
                query.id_contains,
                query.topic,
                query.language,
                query.status,
                query.opened_from,
                query.opened_until,
                query.only_open,
                limit,
            )
        )

    async def tickets_csv(
        self,
        mediator: Mediator,
        city: str | None,
        opened_from: datetime | None = None,
        opened_until: datetime | None = None,
    ) -> str:
        """One line per ticket opened in the period: what it was about and how it went, no user."""
        cities = self.cities(mediator, city)
        found = await self.tickets.find(
            TicketQuery(cities, opened_from=opened_from, opened_until=opened_until)
        )
        return as_csv(list(CSV_HEADER), (csv_row(t) for t in found))
