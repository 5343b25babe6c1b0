"""Mediators and their dashboard sessions. Passwords are hashed with argon2 and never stored or logged."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.tables import MediatorRow, SessionRow
from bot.core.clock import as_utc, utcnow
from bot.core.errors import MediatorError
from bot.core.tickets import STAFF_LANGUAGES, Mediator, Role

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10
_hasher = PasswordHasher()


def _mediator(row: MediatorRow) -> Mediator:
    return Mediator(
        row.id,
        row.email,
        row.name,
        Role(row.role),
        tuple(row.cities),
        tuple(row.languages),
        row.active,
        row.language if row.language in STAFF_LANGUAGES else STAFF_LANGUAGES[0],
    )


class SqlMediatorStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def add(
        self, email: str, name: str, role: Role, cities: list[str], languages: list[str], password: str
    ) -> Mediator:
        email = email.strip().casefold()  # e-mail addresses are compared without case
        if len(password) < MIN_PASSWORD:
            raise MediatorError(f"the password needs at least {MIN_PASSWORD} characters")
        async with self._sessions.begin() as session:
            if (await session.execute(select(MediatorRow).where(MediatorRow.email == email))).scalar():
                raise MediatorError(f"a mediator with e-mail {email} exists already")
            password_hash = await asyncio.to_thread(_hasher.hash, password)
            row = MediatorRow(
                email=email,
                name=name,
                role=role.value,
                cities=cities,
                languages=languages,
                password_hash=password_hash,
                active=True,
            )
            session.add(row)
        return _mediator(row)

    async def set_active(self, email: str, active: bool) -> Mediator:
        email = email.strip().casefold()
        async with self._sessions.begin() as session:
            row = (await session.execute(select(MediatorRow).where(MediatorRow.email == email))).scalar()
            if row is None:
                raise MediatorError(f"no mediator with e-mail {email}")
            row.active = active
            if not active:
                await session.execute(delete(SessionRow).where(SessionRow.mediator_id == row.id))
        return _mediator(row)

    async def set_language(self, mediator_id: int, language: str) -> Mediator:
        if language not in STAFF_LANGUAGES:
            raise MediatorError(f"the dashboard speaks {', '.join(STAFF_LANGUAGES)} only")
        async with self._sessions.begin() as session:
            row = await session.get(MediatorRow, mediator_id)
            if row is None:
                raise MediatorError(f"no mediator with id {mediator_id}")
            row.language = language
        return _mediator(row)

    async def all(self) -> list[Mediator]:
        async with self._sessions() as session:
            return [_mediator(r) for r in (await session.execute(select(MediatorRow))).scalars()]

    async def get(self, mediator_id: int) -> Mediator | None:
        async with self._sessions() as session:
            row = await session.get(MediatorRow, mediator_id)
        return _mediator(row) if row else None

    async def authenticate(self, email: str, password: str) -> Mediator | None:
        email = email.strip().casefold()
        async with self._sessions() as session:
            row = (await session.execute(select(MediatorRow).where(MediatorRow.email == email))).scalar()
        if row is None or not row.active:
            await asyncio.to_thread(_hasher.hash, password)  # same time whether or not the e-mail exists
            return None
        try:  # argon2 takes tens of milliseconds of CPU: off the loop that serves everyone else
            await asyncio.to_thread(_hasher.verify, row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return _mediator(row)

    async def start_session(self, mediator: Mediator) -> tuple[str, str]:
        """A new session id (for the cookie) and its CSRF token (for forms)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        async with self._sessions.begin() as session:
            await session.execute(delete(SessionRow).where(SessionRow.expires_at < now))  # old ones go
            session.add(
                SessionRow(
                    id=session_id,
                    mediator_id=mediator.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return session_id, csrf

    async def session(self, session_id: str) -> tuple[Mediator, str] | None:
        async with self._sessions() as session:
            row = await session.get(SessionRow, session_id)
            if row is None or as_utc(row.expires_at) < utcnow():
                return None
            mediator_row = await session.get(MediatorRow, row.mediator_id)
        if mediator_row is None or not mediator_row.active:
            return None
        return _mediator(mediator_row), row.csrf_token

    async def end_session(self, session_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(SessionRow).where(SessionRow.id == session_id))
