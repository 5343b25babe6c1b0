"""Office notes for translators: ``text/<lang>/offices.yml`` holds each office's ``notes`` in one language
beside the English it translates. ``python -m bot knowledge notes LANG`` brings that file up to date with
the city files: current translations are kept, new or changed notes are added as ``todo``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.loader import KnowledgeBase
from bot.knowledge.model import Office

HEADER = (
    "# Office notes in this language: `en` is the English note of knowledge/cities/<city>.yml, `text` its\n"
    "# translation. A note whose English changed shows again as todo: translate it anew.\n"
    "# Refresh with: python -m bot knowledge notes <language>\n"
)


@dataclass(frozen=True)
class NotesUpdate:
    path: Path
    kept: int
    to_translate: int


def office_notes(kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    """city -> office kind -> the English note, in file order."""
    found: dict[str, dict[str, str]] = {}
    for city_id, city in sorted(kb.cities.items()):
        for kind, office in city.offices.items():
            if isinstance(office, Office) and office.notes:
                found.setdefault(city_id, {})[kind] = office.notes
    return found


def update_note_translations(kb: KnowledgeBase, directory: Path, language: str) -> NotesUpdate:
    existing = kb.texts[language].office_notes if language in kb.texts else {}
    document: dict[str, dict[str, dict[str, str]]] = {}
    kept = to_translate = 0
    for city_id, notes in office_notes(kb).items():
        for kind, note in notes.items():
            translation = existing.get((city_id, kind))
            if translation is not None and translation.translates(note):
                text, kept = translation.text, kept + 1
            else:
                text, to_translate = "todo", to_translate + 1
            document.setdefault(city_id, {})[kind] = {"en": note, "text": text}
    path = directory / "text" / language / "offices.yml"
    body = yaml.safe_dump({"office_notes": document}, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(HEADER + body, encoding="utf-8")
    return NotesUpdate(path, kept, to_translate)
