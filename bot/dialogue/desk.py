"""Everything the dialogue functions read: topics and cities, knowledge, interface strings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalog import Catalog, load_catalog
from bot.core.i18n import Translations, Translator
from bot.core.languages import LanguageNames, load_language_names
from bot.core.settings import Settings
from bot.core.textmatch import mentions
from bot.knowledge import KnowledgeBase, KnowledgeStore


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


def build_desk(settings: Settings, reload_interval: float = 1.0) -> Desk:
    """Everything the dialogue reads, from the places the settings name."""
    return Desk(
        catalog=load_catalog(settings.project_dir),
        knowledge=KnowledgeStore(settings.knowledge_dir, interval=reload_interval),
        translations=Translations(settings.locales_dir),
        language_names=load_language_names(settings.project_dir),
    )
