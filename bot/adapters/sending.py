"""What the sending channels share: ``send`` built on ``parts``, and splitting text within a limit."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Reply


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, line or word breaks where possible, never past ``limit`` characters."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts


class SendsParts:
    """``send`` for channels that define ``parts`` and ``send_part``."""

    def parts(self, reply: Reply, language: str) -> list[Any]:
        raise NotImplementedError

    async def send_part(self, user: str, part: Any) -> str:
        raise NotImplementedError

    async def send(self, user: str, reply: Reply, language: str) -> str:
        message_id = ""
        for part in self.parts(reply, language):
            message_id = await self.send_part(user, part)
        return message_id
