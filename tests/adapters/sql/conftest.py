"""Fixtures of the SQL adapters' tests: a migrated database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.mediators import SqlMediatorStore
from tests.helpers.databases import database


@pytest.fixture(params=["sqlite", "postgresql"])
async def mediators(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlMediatorStore]:
    """The mediator store on a freshly migrated database."""
    with database(request.param, tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        yield SqlMediatorStore(engine)
        await engine.dispose()
