"""Finding a name (a city, a language) inside what people type, in any of the twelve scripts.

Latin-script names must match whole words ("Roma" is not in "romantico"); names in Cyrillic, Arabic or
Bengali may carry endings or attached prefixes ("Мілані", "فميلانو"), so they match at the start of a word;
Chinese has no spaces, so it matches anywhere.
"""

from __future__ import annotations

import unicodedata

ARABIC_PREFIXES = frozenset("وفبلك")


def fold(text: str) -> str:
    """Lower-case and strip accents so that 'Français' and 'francais' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Split on spaces, punctuation and symbols (not on vowel signs, which are letters' parts)."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "ZPSC" else ch for ch in text)
    return cleaned.split()


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK") for ch in text)


def _word_matches(word: str, name: str) -> bool:
    if name.isascii():
        return word == name
    if word.startswith(name):
        return True
    return len(word) > 1 and word[0] in ARABIC_PREFIXES and word[1:].startswith(name)


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` (both compared after ``fold``)."""
    folded_text, folded_name = fold(text), fold(name)
    if not folded_name.strip():
        return False
    if _is_cjk(folded_name):
        return folded_name in folded_text
    text_words, name_words = words(folded_text), words(folded_name)
    span = len(name_words)
    for start in range(len(text_words) - span + 1):
        window = text_words[start : start + span]
        if all(_word_matches(w, n) for w, n in zip(window, name_words, strict=True)):
            return True
    return False
