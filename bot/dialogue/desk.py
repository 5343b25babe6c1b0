"""Everything the dialogue functions read: topics and cities, knowledge, interface strings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalog import Catalog, load_catalog
from bot.i18n import Translations, Translator
from bot.knowledge import KnowledgeBase, KnowledgeStore
from bot.languages import LanguageNames, load_language_names
from bot.textmatch import mentions


@dataclass
class Desk:
    catalog: Catalog
    knowledge: KnowledgeStore
    translations: Translations
    language_names: LanguageNames

    def kb(self) -> KnowledgeBase:
        return self.knowledge.current()

    def tr(self, language: str) -> Translator:
        return self.translations(language)

    def find_city(self, text: str) -> str | None:
        """The network city a message names ("I live in Caserta", "Рим"), if exactly one."""
        found = set()
        kb = self.kb()
        for city in self.catalog.cities.values():
            knowledge = kb.cities.get(city.id)
            names = [city.name, city.id, *(knowledge.aliases if knowledge else [])]
            if any(mentions(text, name) for name in names):
                found.add(city.id)
        return found.pop() if len(found) == 1 else None


def build_desk(project_dir: Path, knowledge_dir: Path | None = None, reload_interval: float = 1.0) -> Desk:
    return Desk(
        catalog=load_catalog(project_dir),
        knowledge=KnowledgeStore(knowledge_dir or project_dir / "knowledge", interval=reload_interval),
        translations=Translations(project_dir / "locales"),
        language_names=load_language_names(project_dir),
    )
