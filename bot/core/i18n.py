"""Interface strings in every language, from gettext catalogs in ``locales/`` (Babel).

The English text is the msgid; each language's ``locales/<lang>/LC_MESSAGES/messages.po`` gives the
translation. ``tests/test_i18n.py`` fails when a language lacks a string or a placeholder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from bot.core.errors import ConfigurationError
from bot.core.languages import LANGUAGES

log = logging.getLogger(__name__)
DOMAIN = "messages"


@dataclass(frozen=True)
class Translator:
    """Translates interface strings into one language."""

    language: str
    strings: dict[str, str]

    def _(self, msgid: str, **values: object) -> str:
        """The translation of ``msgid`` with ``{placeholders}`` filled in.

        A missing translation falls back to English (and the locale check fails in CI).
        """
        text = self.strings.get(msgid) or msgid
        return text.format(**values) if values else text


def po_path(locales_dir: Path, language: str, domain: str = DOMAIN) -> Path:
    """Where one language's catalog of one domain lives (``messages``: the bot's; ``dashboard``)."""
    return locales_dir / language / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path) -> dict[str, str]:
    """msgid -> msgstr of one .po file (fuzzy and empty entries left out)."""
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


class Translations:
    """All languages' catalogs, read once at start-up."""

    def __init__(self, locales_dir: Path) -> None:
        self._translators = {
            language: Translator(language, read_catalog(po_path(locales_dir, language)))
            for language in LANGUAGES
        }

    def __call__(self, language: str) -> Translator:
        return self._translators.get(language) or self._translators["en"]
