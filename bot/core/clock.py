"""The one clock: every timestamp the desk stores or compares is an aware UTC datetime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC (and is stored as UTC: SQLite keeps the
    wall-clock time of an aware datetime and drops its offset)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` Monday-to-Friday days after ``start``: when the team promises an answer."""
    moment = start
    while days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment
