"""An office as the user reads it: its facts, and its notes in the user's language only when the
translation is of the current English note."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.settings import load_settings
from bot.dialogue.answers import known_office, render_office
from bot.dialogue.desk import build_desk
from tests.helpers.knowledge import copy_project_knowledge


def test_notes_are_shown_translated_and_never_from_an_older_english(tmp_path: Path) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    desk = build_desk(load_settings(SPORTELLO_KNOWLEDGE_DIR=knowledge), reload_interval=0)
    city, kind = next(
        (city_id, kind)
        for city_id, city in desk.kb().cities.items()
        for kind in city.offices
        if (office := known_office(desk, city_id, kind)) is not None and office.notes
    )
    office = known_office(desk, city, kind)
    assert office is not None and office.notes
    path = knowledge / "text" / "uk" / "offices.yml"
    translation = {"en": office.notes, "text": "Лише за записом."}

    def write_translation() -> None:
        document = {"office_notes": {city: {kind: translation}}}
        path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")

    write_translation()
    desk = build_desk(load_settings(SPORTELLO_KNOWLEDGE_DIR=knowledge), reload_interval=0)
    assert office.notes in render_office(desk, desk.tr("en"), city, kind, office)
    ukrainian = render_office(desk, desk.tr("uk"), city, kind, office)
    assert "Лише за записом." in ukrainian and office.notes not in ukrainian

    translation["en"] = "An older English note."
    write_translation()
    desk = build_desk(load_settings(SPORTELLO_KNOWLEDGE_DIR=knowledge), reload_interval=0)
    stale = render_office(desk, desk.tr("uk"), city, kind, office)
    assert "Лише за записом." not in stale and office.notes not in stale
