"""WhatsApp Cloud API media, receiving: ``GET /{media-id}`` gives a short-lived URL (and the file's
size and sha256), which is downloaded with the same bearer token. Used for the images and documents
users send while a ticket is open."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from typing import Any

import aiohttp

from bot.core.attachments import MediaRef
from bot.core.errors import AttachmentRefused, RetryLater

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class WhatsAppMedia:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, access_token: str, timeout: float = 30.0
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def download(self, ref: MediaRef, max_bytes: int) -> bytes:
        """The file's bytes, read no further than ``max_bytes``; checked against the sha256 Meta gives."""
        try:
            info = await self._info(ref.file_id)
            size = _int(info.get("file_size"))
            if size is not None and size > max_bytes:
                raise AttachmentRefused("too_big")
            content = await self._fetch(str(info["url"]), max_bytes)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
            raise RetryLater(10, f"whatsapp media: {type(exc).__name__}") from exc
        if not _matches(content, info.get("sha256")):
            raise RetryLater(10, "whatsapp media: the download does not match its sha256")
        return content

    async def _info(self, media_id: str) -> dict[str, Any]:
        url = f"{self._base}/{media_id}"
        async with self._session.get(url, headers=self._headers, timeout=self._timeout) as response:
            answer = await response.json(content_type=None)
            if response.status != 200 or not isinstance(answer, dict) or "url" not in answer:
                raise RetryLater(10, f"whatsapp media {response.status}")
            return answer

    async def _fetch(self, url: str, max_bytes: int) -> bytes:
        async with self._session.get(url, headers=self._headers, timeout=self._timeout) as response:
            if response.status != 200:
                raise RetryLater(10, f"whatsapp media download {response.status}")
            content = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                content += chunk
                if len(content) > max_bytes:
                    raise AttachmentRefused("too_big")
            return bytes(content)


def _int(value: object) -> int | None:
    """Meta sends ``file_size`` as a string of digits (some versions: a number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _matches(content: bytes, expected: object) -> bool:
    """Meta's sha256 of the file, hex (the media endpoint) or base64 (webhooks); none given: true."""
    if not isinstance(expected, str) or not expected:
        return True
    digest = hashlib.sha256(content).digest()
    return expected.lower() == digest.hex() or expected == base64.b64encode(digest).decode()
