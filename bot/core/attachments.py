"""Files users send for their ticket (a photo of an eviction letter, a scanned form): which kinds the
desk accepts, and how a file is recognised by its first bytes rather than by what the sender claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import AttachmentRefused

# what the desk keeps, by the type its first bytes show, with the extension a download gets
ACCEPTED = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
PHOTO, DOCUMENT = "photo", "document"


@dataclass(frozen=True)
class MediaRef:
    """A file a platform's update names but has not given us yet (Telegram's file_id, WhatsApp's media
    id), with what the sender's app declared about it; the file name is never kept."""

    file_id: str
    kind: str = PHOTO  # photo | document
    declared_type: str = ""
    declared_size: int | None = None


@dataclass(frozen=True)
class Attachment:
    """A stored file of a ticket (its bytes live in the attachment store, under a random name)."""

    id: int
    ticket_id: str
    kind: str
    size: int
    content_type: str
    sha256: str
    created_at: datetime

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def extension(self) -> str:
        return ACCEPTED.get(self.content_type, "bin")


def sniff(content: bytes) -> str | None:
    """The accepted type the bytes begin with, or None."""
    return next((kind for magic, kind in MAGIC if content.startswith(magic)), None)


def declared_ok(declared: str) -> bool:
    """What the sender's app claims (may be empty): one of ours, ignoring parameters (``; charset``)."""
    base = declared.split(";", 1)[0].strip().lower()
    return not base or base in ACCEPTED


def check(content: bytes, declared: str, max_bytes: int) -> str:
    """The type to store the file as; ``AttachmentRefused`` when it is too big, or neither its bytes
    nor its declared type are a photo or a PDF."""
    if len(content) > max_bytes:
        raise AttachmentRefused("too_big")
    found = sniff(content)
    if found is None or not declared_ok(declared):
        raise AttachmentRefused("type")
    return found
