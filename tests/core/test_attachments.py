"""Which files the desk keeps: recognised by their first bytes, within the size limit, whatever the
sender's app declared."""

from __future__ import annotations

import pytest

from bot.core.attachments import Attachment, check, declared_ok, sniff
from bot.core.clock import utcnow
from bot.core.errors import AttachmentRefused

JPEG, PNG, PDF = b"\xff\xd8\xff\xe1 exif", b"\x89PNG\r\n\x1a\n IHDR", b"%PDF-1.5 scanned"


@pytest.mark.parametrize(
    ("content", "kind"), [(JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf")]
)
def test_the_first_bytes_say_the_type(content: bytes, kind: str) -> None:
    assert sniff(content) == kind
    assert check(content, "", 1000) == kind


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 a Windows program", b"<svg onload=alert(1)>", b"GIF89a", b"PK\x03\x04 a docx", b""],
)
def test_anything_else_is_refused_whatever_it_claims(content: bytes) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check(content, "image/jpeg", 1000)
    assert refused.value.reason == "type"


def test_a_declared_type_we_do_not_keep_is_refused_even_with_good_bytes() -> None:
    with pytest.raises(AttachmentRefused):
        check(PDF, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1000)
    assert declared_ok("image/jpeg; charset=binary") and declared_ok("") and not declared_ok("text/html")


def test_the_bytes_decide_between_two_accepted_types() -> None:
    assert check(PNG, "image/jpeg", 1000) == "image/png"


def test_over_the_limit_is_too_big() -> None:
    assert check(JPEG + bytes(10), "", len(JPEG) + 10) == "image/jpeg"
    with pytest.raises(AttachmentRefused) as refused:
        check(JPEG + bytes(11), "", len(JPEG) + 10)
    assert refused.value.reason == "too_big"


def test_a_download_gets_the_extension_of_its_real_type() -> None:
    photo = Attachment(1, "CE-2026-0001", "photo", 10, "image/png", "0" * 64, utcnow())
    assert (photo.extension, photo.is_image) == ("png", True)
