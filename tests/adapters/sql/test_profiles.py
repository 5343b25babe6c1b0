"""The SQL profile store on SQLite (migrated from empty) and the in-memory fake behave alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.adapters.sql.database import create_engine, migrate, sync_url
from bot.adapters.sql.profiles import SqlProfileStore
from bot.core.ports import ProfileStore
from bot.core.profiles import Profile
from tests.fakes.stores import MemoryProfileStore


@pytest.fixture(params=["sql", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> ProfileStore:
    if request.param == "memory":
        return MemoryProfileStore()
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    return SqlProfileStore(create_engine(url))


async def test_unknown_user_has_an_empty_profile(store: ProfileStore) -> None:
    assert await store.get("webchat:new") == Profile("webchat:new")


async def test_save_update_erase(store: ProfileStore) -> None:
    await store.save(Profile("telegram:1", "ar", True, "caserta"))
    await store.save((await store.get("telegram:1")).with_changes(city="roma"))
    assert await store.get("telegram:1") == Profile("telegram:1", "ar", True, "roma")
    await store.erase("telegram:1")
    assert await store.get("telegram:1") == Profile("telegram:1")


def test_migrations_run_from_empty_and_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(url)
    migrate(url)
    from sqlalchemy import create_engine as create_sync_engine

    engine = create_sync_engine(sync_url(url))
    assert "user_profiles" in inspect(engine).get_table_names()
