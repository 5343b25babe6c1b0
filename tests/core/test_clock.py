"""The clock: working days for the team's promise."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.core.clock import add_working_days, as_utc


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 27, 10, 0)
    assert add_working_days(friday, 2).weekday() == 1  # Tuesday


def test_as_utc_reads_a_naive_moment_as_utc_and_keeps_an_aware_one() -> None:
    naive = datetime(2026, 12, 2, 18, 0)
    assert as_utc(naive) == datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)
    aware = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)
    assert as_utc(aware) is aware
