"""The bytes of attachments: one file each in a private folder of the data directory, under a random
name (never the sender's file name, which could be a path or say who they are)."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Collection
from pathlib import Path

NAME_BYTES = 16  # 32 hex characters
SWEEP_GRACE_SECONDS = 3600.0  # a file younger than this may be waiting for its row (being stored now)


class AttachmentFiles:
    """Writes are atomic (a temporary file renamed), the folder is 0700 and each file 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if not name.isalnum():  # our names are hex; anything else is not ours to open
            raise FileNotFoundError(name)
        return self.folder / name

    async def write(self, content: bytes) -> str:
        return await asyncio.to_thread(self._write, content)

    def _write(self, content: bytes) -> str:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = secrets.token_hex(NAME_BYTES)
        partial = self.folder / f"{name}.part"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.folder / name)
        return name

    async def read(self, name: str) -> bytes:
        return await asyncio.to_thread(self.path(name).read_bytes)

    async def remove(self, names: Collection[str]) -> None:
        await asyncio.to_thread(self._remove, names)

    def _remove(self, names: Collection[str]) -> None:
        for name in names:
            self.path(name).unlink(missing_ok=True)

    async def orphans(self, known: Collection[str], grace: float = SWEEP_GRACE_SECONDS) -> list[str]:
        """Files no row names, older than ``grace`` seconds (a younger one may be getting its row)."""
        return await asyncio.to_thread(self._orphans, set(known), grace)

    def _orphans(self, known: set[str], grace: float) -> list[str]:
        if not self.folder.is_dir():
            return []
        limit = time.time() - grace
        return [
            entry.name
            for entry in self.folder.iterdir()
            if entry.name.removesuffix(".part") not in known
            and entry.name.removesuffix(".part").isalnum()
            and entry.stat().st_mtime < limit
        ]

    async def remove_orphans(self, names: Collection[str]) -> None:
        """Remove leftovers, ``.part`` files of a crashed write included."""
        await asyncio.to_thread(self._remove_orphans, names)

    def _remove_orphans(self, names: Collection[str]) -> None:
        for name in names:
            (self.folder / name).unlink(missing_ok=True)
