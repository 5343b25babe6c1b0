"""Live reloading: a staff edit is served within seconds; a broken edit keeps the last good text."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.store import KnowledgeStore
from tests.helpers.knowledge import copy_project_knowledge


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def edit_title(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_edit_is_served_after_the_interval(tmp_path: Path) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    clock = Clock()
    store = KnowledgeStore(knowledge, interval=1.0, clock=clock)
    old = store.current().texts["en"].topics["tax_code"].title
    edit_title(knowledge / "text" / "en" / "documents.yml", f'title: "{old}"', "title: Tax number NEW")
    assert store.current().texts["en"].topics["tax_code"].title == old  # within the interval
    clock.now = 1.5
    assert store.current().texts["en"].topics["tax_code"].title == "Tax number NEW"


def test_broken_edit_keeps_the_last_good_version(tmp_path: Path) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    clock = Clock()
    store = KnowledgeStore(knowledge, interval=1.0, clock=clock)
    before = store.current().texts["en"].topics["tax_code"]
    path = knowledge / "text" / "en" / "documents.yml"
    path.write_text(path.read_text() + "\n  broken: [\n")
    clock.now = 2.0
    assert store.current().texts["en"].topics["tax_code"] == before
