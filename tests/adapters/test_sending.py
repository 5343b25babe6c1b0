"""Splitting text within a platform's limit (Telegram 4,096, WhatsApp 4,096 characters a message)."""

from __future__ import annotations

import pytest

from bot.adapters.sending import split_text
from bot.adapters.telegram.channel import MAX_TEXT


def letters(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(
    "text",
    [
        "Il codice fiscale si chiede all'Agenzia delle Entrate. " * 300,
        "\n\n".join(f"Paragrafo {i}.\n" + "riga di testo " * 40 for i in range(40)),
        "x" * (3 * MAX_TEXT + 17),  # no place to break: hard cuts
        "税号可以在税务局申请。" * 1500,  # Chinese: no spaces
        "الرقم الضريبي يطلب من وكالة الإيرادات. " * 400,
        "short",
        "",
    ],
)
def test_split_text_keeps_every_character_within_the_limit(text: str) -> None:
    parts = split_text(text, MAX_TEXT)

    assert all(0 < len(part) <= MAX_TEXT for part in parts)
    assert letters("".join(parts)) == letters(text)
    assert len(parts) <= len(text) // (MAX_TEXT // 2) + 1  # cuts never fall in the first half
    if len(text) <= MAX_TEXT:
        assert parts == ([text] if text else [])
    if " " not in text and "\n" not in text:
        assert "".join(parts) == text


def test_split_text_breaks_at_whitespace() -> None:
    text = " ".join(f"parola{i}" for i in range(2000))
    parts = split_text(text, limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert " ".join(parts) == text  # every cut fell on a space, no word was cut
