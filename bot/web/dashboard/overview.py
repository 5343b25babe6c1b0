"""The overview pages: statistics of the mediator's cities (and their CSV), search over their tickets.

Which cities a mediator may see is decided by the ``Overview`` use case: another city's statistics or
CSV is a 403 (``CityNotAllowed``), like another city's ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from aiohttp import web

from bot.conversation.overview import Overview, Statistics
from bot.core.clock import utcnow
from bot.core.errors import InvalidInput
from bot.core.languages import LANGUAGES
from bot.core.overview import TicketFacts, TicketQuery
from bot.core.tickets import Status
from bot.web.dashboard.i18n import N_
from bot.web.dashboard.keys import MEDIATOR
from bot.web.dashboard.responses import render, ticket_views, translator
from bot.web.dashboard.views import LOCAL_ZONE, OUTCOME_LABELS, STATUS_LABELS, TicketViews, iso, local_time
from bot.web.keys import CATALOG, OVERVIEW

OPEN_LABEL = N_("Not closed yet")


def overview(request: web.Request) -> Overview:
    return request.config_dict[OVERVIEW]


def views(request: web.Request) -> TicketViews:
    """Labels in the mediator's language."""
    return ticket_views(request)


def day(query: Mapping[str, str], name: str) -> date | None:
    """A ``YYYY-MM-DD`` field; empty is no limit."""
    value = query.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Dates are written as YYYY-MM-DD.") from None


def start_of(moment: date | None) -> datetime | None:
    """Midnight in Italy, in UTC (the offices' days)."""
    if moment is None:
        return None
    return datetime.combine(moment, time(), LOCAL_ZONE).astimezone(timezone.utc)


def period(query: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
    """From the first day's midnight to the midnight after the last day (both days included)."""
    first, last = day(query, "from"), day(query, "until")
    return start_of(first), start_of(last + timedelta(days=1)) if last else None


def chosen_city(request: web.Request) -> str | None:
    return request.query.get("city") or None


def duration(value: timedelta | None) -> str:
    """``1 d 4 h``, ``3 h 20 min``, ``12 min``; empty when there is none."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def statistics_view(request: web.Request, stats: Statistics) -> dict[str, Any]:
    tr, shown = translator(request), views(request)
    outcomes = {o.value: label for o, label in OUTCOME_LABELS.items()}
    return {
        "cities": [shown.city_name(c) for c in stats.cities],
        "total": stats.total,
        "by_topic": [(shown.topic_label(t if t != "-" else None), n) for t, n in stats.by_topic],
        "by_language": [(shown.language_label(code), n) for code, n in stats.by_language],
        "by_outcome": [(tr._(outcomes.get(o, OPEN_LABEL)), n) for o, n in stats.by_outcome],
        "by_week": stats.by_week,
        "week_max": max((n for _, n in stats.by_week), default=0),
        "replied": stats.replied,
        "median_first_reply": duration(stats.median_first_reply),
        "open_now": stats.open_now,
        "overdue_now": stats.overdue_now,
    }


def city_options(request: web.Request) -> list[tuple[str, str]]:
    shown = views(request)
    return [(city, shown.city_name(city)) for city in request[MEDIATOR].cities]


async def statistics_page(request: web.Request) -> web.Response:
    opened_from, opened_until = period(request.query)
    stats = await overview(request).statistics(
        request[MEDIATOR], chosen_city(request), opened_from, opened_until
    )
    return render(
        request,
        "stats.html",
        {
            "stats": statistics_view(request, stats),
            "city": chosen_city(request) or "",
            "cities": city_options(request),
            "from": request.query.get("from", ""),
            "until": request.query.get("until", ""),
        },
    )


async def statistics_csv(request: web.Request) -> web.Response:
    opened_from, opened_until = period(request.query)
    text = await overview(request).tickets_csv(
        request[MEDIATOR], chosen_city(request), opened_from, opened_until
    )
    name = f"tickets-{chosen_city(request) or 'all'}-{utcnow():%Y%m%d}.csv"
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def search_query(query: Mapping[str, str], topics: Mapping[str, object]) -> TicketQuery:
    """The search form; unknown values are no filter, like the queue's."""
    opened_from, opened_until = period(query)
    city, topic, language = query.get("city", ""), query.get("topic"), query.get("language")
    status = query.get("status")
    return TicketQuery(
        cities=(city,) if city else (),
        id_contains=query.get("q", "").strip()[:30],
        topic=topic if topic in topics else None,
        language=language if language in LANGUAGES else None,
        status=Status(status) if status in {s.value for s in Status} else None,
        opened_from=opened_from,
        opened_until=opened_until,
    )


def result_view(request: web.Request, ticket: TicketFacts) -> dict[str, Any]:
    shown, tr = views(request), translator(request)
    return {
        "id": ticket.id,
        "city_name": shown.city_name(ticket.city),
        "language_label": shown.language_label(ticket.language),
        "topic_label": shown.topic_label(ticket.topic),
        "urgent": ticket.urgent,
        "status_label": tr._(STATUS_LABELS[ticket.status]),
        "outcome_label": tr._(OUTCOME_LABELS[ticket.outcome]) if ticket.outcome else "",
        "created_at": iso(ticket.created_at),
        "created_local": local_time(ticket.created_at),
        "overdue": ticket.overdue(utcnow()),
    }


async def search_page(request: web.Request) -> web.Response:
    catalog = request.config_dict[CATALOG]
    wanted = search_query(request.query, catalog.topics)
    searched = any(
        request.query.get(k) for k in ("q", "topic", "language", "status", "from", "until", "city")
    )
    found = await overview(request).search(request[MEDIATOR], wanted) if searched else []
    shown = views(request)
    return render(
        request,
        "search.html",
        {
            "searched": searched,
            "results": [result_view(request, t) for t in found],
            "form": dict(request.query),
            "cities": city_options(request),
            "languages": shown.language_options(),
            "topics": shown.topic_options(),
            "statuses": shown.status_options(),
        },
    )


def add_routes(dashboard: web.Application) -> None:
    router = dashboard.router
    router.add_get("/stats", statistics_page, name="stats")
    router.add_get("/stats.csv", statistics_csv, name="stats.csv")
    router.add_get("/search", search_page, name="search")
