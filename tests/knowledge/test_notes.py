"""Office notes in every language: the translators' file is refreshed from the city files, a missing
translation is an error, one of an older English note is a warning and is never shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.knowledge.checker import check_knowledge
from bot.knowledge.loader import load_knowledge
from bot.knowledge.notes import office_notes, update_note_translations
from tests.helpers.knowledge import copy_project_knowledge

TODAY = date(2026, 12, 2)
OTHERS = [code for code in LANGUAGES if code != "en"]


def rewrite_texts(knowledge: Path, language: str, text: Callable[[str], str]) -> None:
    """Give every note of one language the translation ``text(english)``."""
    path = knowledge / "text" / language / "offices.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for notes in document["office_notes"].values():
        for entry in notes.values():
            entry["text"] = text(entry["en"])
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def note_problems(knowledge: Path, catalog: Catalog) -> list[str]:
    return [str(p) for p in check_knowledge(knowledge, catalog, TODAY).problems if "office note" in p.message]


def test_untranslated_notes_are_errors_in_every_language_but_english(
    tmp_path: Path, catalog: Catalog
) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    for language in OTHERS:
        rewrite_texts(knowledge, language, lambda english: "todo")
    kb, _ = load_knowledge(knowledge)
    count = sum(len(notes) for notes in office_notes(kb).values())
    assert count > 100
    report = check_knowledge(knowledge, catalog, TODAY)
    missing = [p for p in report.errors if "has no" in p.message and "office note" in p.message]
    assert len(missing) == count * len(OTHERS)


def test_a_changed_english_note_makes_its_translations_stale_and_the_refresh_resets_them(
    tmp_path: Path, catalog: Catalog
) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    for language in OTHERS:
        rewrite_texts(knowledge, language, lambda english, code=language: f"[{code}] {english}"[:300])
    assert note_problems(knowledge, catalog) == []
    city = knowledge / "cities" / "bologna.yml"
    kb, _ = load_knowledge(knowledge)
    [(kind, note), *_] = office_notes(kb)["bologna"].items()
    city.write_text(city.read_text(encoding="utf-8").replace(note, note + " Closed in August."), "utf-8")
    stale = note_problems(knowledge, catalog)
    assert len(stale) == len(OTHERS) and all(f"bologna.{kind}" in p and "older note" in p for p in stale)
    kb, _ = load_knowledge(knowledge)
    update = update_note_translations(kb, knowledge, "ar")
    assert update.to_translate == 1 and update.kept == sum(len(n) for n in office_notes(kb).values()) - 1
