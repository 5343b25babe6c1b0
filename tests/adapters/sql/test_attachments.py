"""Attachments on SQL and the data folder (SQLite and PostgreSQL): rows and random-named files, read
back only through their own ticket, and gone from the disk with the ticket's words (/forget, retention,
the purge command) or, left over, at the next sweep."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.adapters.sql.attachment_files import SWEEP_GRACE_SECONDS, AttachmentFiles
from bot.adapters.sql.attachments import SqlAttachmentStore
from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.tables import TicketRow
from bot.adapters.sql.tickets import SqlTicketStore
from bot.core.clock import utcnow
from bot.core.errors import AttachmentNotFound
from bot.core.tickets import Mediator, NewTicket, Outcome, Role, Ticket
from tests.helpers.databases import database

JPEG = b"\xff\xd8\xff\xe0 a photo of an eviction letter"
PDF = b"%PDF-1.4 a scanned residence permit"
ANNA = Mediator(1, "anna@roma.example", "Anna", Role.MEDIATOR, ("roma",), ("it",))


@dataclass
class Stores:
    engine: AsyncEngine
    files: AttachmentFiles
    tickets: SqlTicketStore
    attachments: SqlAttachmentStore

    async def ticket(self, user_key: str = "telegram:77") -> Ticket:
        new = NewTicket("roma", "RM", "ar", "housing", False, "telegram", user_key, "sfratto", utcnow())
        return await self.tickets.open(new)

    def on_disk(self) -> set[str]:
        folder = self.files.folder
        return {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()


@pytest.fixture(params=["sqlite", "postgresql"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    with database(request.param, tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        files = AttachmentFiles(tmp_path / "attachments")
        yield Stores(engine, files, SqlTicketStore(engine, files), SqlAttachmentStore(engine, files))
        await engine.dispose()


async def test_a_file_is_stored_under_a_random_name_and_read_back_through_its_ticket(stores: Stores) -> None:
    ticket, other = await stores.ticket(), await stores.ticket("telegram:88")
    photo = await stores.attachments.add(ticket.id, "telegram:77", "photo", "image/jpeg", JPEG)
    document = await stores.attachments.add(ticket.id, "telegram:77", "document", "application/pdf", PDF)

    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest() and photo.size == len(JPEG)
    assert [a.id for a in await stores.attachments.for_ticket(ticket.id)] == [photo.id, document.id]
    assert await stores.attachments.for_ticket(other.id) == []
    found, content = await stores.attachments.read(ticket.id, document.id)
    assert (found.content_type, content) == ("application/pdf", PDF)
    with pytest.raises(AttachmentNotFound):
        await stores.attachments.read(other.id, photo.id)  # the id of another ticket's file
    names = stores.on_disk()
    assert len(names) == 2 and all(len(name) == 32 and int(name, 16) >= 0 for name in names)
    assert stores.files.folder.stat().st_mode & 0o077 == 0


async def test_forget_erases_the_files_with_the_tickets_words(stores: Stores) -> None:
    ticket, other = await stores.ticket(), await stores.ticket("telegram:88")
    await stores.attachments.add(ticket.id, "telegram:77", "photo", "image/jpeg", JPEG)
    kept = await stores.attachments.add(other.id, "telegram:88", "photo", "image/jpeg", JPEG)

    assert await stores.tickets.erase_user("telegram:77") == 1

    assert await stores.attachments.for_ticket(ticket.id) == []
    assert len(stores.on_disk()) == 1
    assert (await stores.attachments.read(other.id, kept.id))[1] == JPEG


async def test_the_attachment_store_erases_a_users_files_by_itself_too(stores: Stores) -> None:
    ticket = await stores.ticket()
    await stores.attachments.add(ticket.id, "telegram:77", "document", "application/pdf", PDF)
    assert await stores.attachments.erase_user("telegram:77") == 1
    assert stores.on_disk() == set() and await stores.attachments.for_ticket(ticket.id) == []


async def test_retention_of_closed_tickets_takes_their_files(stores: Stores) -> None:
    old, recent = await stores.ticket(), await stores.ticket()
    for ticket in (old, recent):
        await stores.attachments.add(ticket.id, "telegram:77", "photo", "image/jpeg", JPEG)
        await stores.tickets.close(ANNA, ticket.id, Outcome.RESOLVED)
    async with async_sessionmaker(stores.engine).begin() as session:
        closed_long_ago = update(TicketRow).where(TicketRow.id == old.id)
        await session.execute(closed_long_ago.values(closed_at=utcnow() - timedelta(days=200)))

    assert await stores.tickets.purge_closed(timedelta(days=180)) == 1

    assert await stores.attachments.for_ticket(old.id) == []
    assert len(await stores.attachments.for_ticket(recent.id)) == 1 and len(stores.on_disk()) == 1


async def test_a_sweep_removes_files_no_row_names_once_they_are_old(stores: Stores) -> None:
    ticket = await stores.ticket()
    kept = await stores.attachments.add(ticket.id, "telegram:77", "photo", "image/jpeg", JPEG)
    orphan = await stores.files.write(PDF)  # its row never came (a crash between file and row)
    young = await stores.files.write(PDF)  # being stored right now: its row is on its way
    (stores.files.folder / "deadbeef.part").write_bytes(b"half")  # a write that died
    long_ago = time.time() - SWEEP_GRACE_SECONDS - 60
    for name in (orphan, "deadbeef.part"):
        os.utime(stores.files.folder / name, (long_ago, long_ago))

    assert await stores.attachments.sweep() == 2

    assert orphan not in stores.on_disk() and young in stores.on_disk()
    assert (await stores.attachments.read(ticket.id, kept.id))[1] == JPEG


async def test_a_name_that_is_not_ours_is_never_opened(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "secret").write_bytes(b"not an attachment")
    with pytest.raises(FileNotFoundError):
        await files.read("../secret")
