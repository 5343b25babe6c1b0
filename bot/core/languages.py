"""The twelve languages of the desk and how people name them.

Codes are ISO 639-1. Names and aliases live in ``locales/languages.yml`` (data, not code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import ConfigurationError, YamlFileError
from bot.core.textmatch import fold, mentions
from bot.core.yamlfile import read_yaml

LANGUAGES: tuple[str, ...] = ("it", "en", "fr", "ar", "es", "uk", "ru", "ro", "sq", "bn", "ur", "zh")
RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar", "ur"})
DEFAULT_LANGUAGE = "it"


@dataclass(frozen=True)
class LanguageNames:
    """Each language's own name, and every alias that points to it."""

    names: dict[str, str]
    aliases: dict[str, str]
    italian_terms: tuple[str, ...] = ()

    def find_in(self, text: str) -> str | None:
        """The language a message asks for by name ("English please"), if exactly one is named."""
        found = {code for alias, code in self.aliases.items() if mentions(text, alias)}
        return found.pop() if len(found) == 1 else None


def direction(language: str) -> str:
    """HTML text direction for a language."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def load_language_names(project_dir: Path) -> LanguageNames:
    """Read ``locales/languages.yml`` once at start-up; the caller keeps the result."""
    path = project_dir / "locales" / "languages.yml"
    try:
        document = read_yaml(path).data
        data = document["languages"]
    except (YamlFileError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc!r}") from exc
    missing = set(LANGUAGES) - set(data)
    if missing:
        raise ConfigurationError(f"{path}: languages missing: {sorted(missing)}")
    names = {code: str(data[code]["name"]) for code in LANGUAGES}
    aliases: dict[str, str] = {}
    for code in LANGUAGES:
        for alias in [names[code], *data[code].get("aliases", [])]:
            aliases[fold(str(alias))] = code
    terms = tuple(str(t) for t in document.get("italian_terms", []))
    return LanguageNames(names=names, aliases=aliases, italian_terms=terms)
