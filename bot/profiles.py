"""What the desk remembers per user: language (and whether they chose it) and city.

``ProfileStore`` is the port; ``SqlProfileStore`` the SQLAlchemy adapter; tests use ``MemoryProfileStore``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.db import UserProfileRow


@dataclass(frozen=True)
class Profile:
    user_key: str
    language: str | None = None
    language_pinned: bool = False
    city: str | None = None
    handoff_pending: bool = False  # consent given: the next message is the user's few words
    handoff_topic: str | None = None
    handoff_urgent: bool = False

    def with_changes(self, **changes: object) -> Profile:
        return replace(self, **changes)  # type: ignore[arg-type]


class ProfileStore(Protocol):
    async def get(self, user_key: str) -> Profile: ...
    async def save(self, profile: Profile) -> None: ...
    async def erase(self, user_key: str) -> None: ...


class MemoryProfileStore:
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}

    async def get(self, user_key: str) -> Profile:
        return self.profiles.get(user_key, Profile(user_key))

    async def save(self, profile: Profile) -> None:
        self.profiles[profile.user_key] = profile

    async def erase(self, user_key: str) -> None:
        self.profiles.pop(user_key, None)


class SqlProfileStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get(self, user_key: str) -> Profile:
        async with self._sessions() as session:
            row = await session.get(UserProfileRow, user_key)
        if row is None:
            return Profile(user_key)
        return Profile(
            row.user_key,
            row.language,
            bool(row.language_pinned),
            row.city,
            bool(row.handoff_pending),
            row.handoff_topic,
            bool(row.handoff_urgent),
        )

    async def save(self, profile: Profile) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(UserProfileRow, profile.user_key)
            if row is None:
                row = UserProfileRow(user_key=profile.user_key)
                session.add(row)
            row.language = profile.language
            row.language_pinned = profile.language_pinned
            row.city = profile.city
            row.handoff_pending = profile.handoff_pending
            row.handoff_topic = profile.handoff_topic
            row.handoff_urgent = profile.handoff_urgent

    async def erase(self, user_key: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(UserProfileRow).where(UserProfileRow.user_key == user_key))

    async def count(self) -> int:
        async with self._sessions() as session:
            return len((await session.execute(select(UserProfileRow.user_key))).all())
