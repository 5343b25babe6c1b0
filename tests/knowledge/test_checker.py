"""The checker on the real knowledge folder and on copies broken on purpose."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.settings import PROJECT_DIR
from bot.knowledge.checker import check_knowledge
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import OFFICE_FACTS
from tests.helpers.knowledge import copy_project_knowledge, write

TODAY = date(2026, 11, 24)


def test_project_knowledge_has_no_errors(catalog: Catalog) -> None:
    report = check_knowledge(PROJECT_DIR / "knowledge", catalog, TODAY)
    assert [str(p) for p in report.errors] == []
    assert all(row["topics"] == len(catalog.topics) for row in report.coverage.values())


def test_every_city_reports_its_todos(catalog: Catalog) -> None:
    report = check_knowledge(PROJECT_DIR / "knowledge", catalog, TODAY)
    assert set(report.city_todos) == set(catalog.cities)
    assert any(report.city_todos.values()), "some office is still unknown somewhere"


def test_schema_error_names_file_and_line(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    path = knowledge / "topics" / "tax_code.yml"
    text = path.read_text().replace("checked: 2026-11-24", "checked: yesterday")
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("checked:"))
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.path == path and p.line == line and "checked" in p.message for p in errors)


def test_message_over_700_characters_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    write(
        knowledge / "text" / "en" / "zz_long.yml",
        "topics:\n  not_a_topic:\n    title: Long\n    answer:\n      - " + "x" * 701 + "\n",
    )
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.line == 5 and "700" in p.message for p in errors)


def test_missing_language_and_missing_topic(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    for file in (knowledge / "text" / "zh").glob("*.yml"):
        file.unlink()
    (knowledge / "topics" / "isee.yml").unlink()
    messages = [p.message for p in check_knowledge(knowledge, catalog, TODAY).errors]
    assert "language 'zh' has no text at all" in messages
    assert "topic 'isee' of topics.yml has no knowledge entry" in messages


def test_urgent_topic_without_now_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    housing = knowledge / "text" / "fr" / "housing.yml"
    lines = housing.read_text().splitlines(keepends=True)
    # drop the `now:` of the eviction topic (a one-line scalar in our files)
    start = next(i for i, row in enumerate(lines) if row.strip() == "eviction:")
    now = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("now:"))
    del lines[now]
    housing.write_text("".join(lines))
    messages = [p.message for p in check_knowledge(knowledge, catalog, TODAY).errors]
    assert "urgent topic 'eviction' needs 'now' (fr)" in messages


def test_stale_facts_are_a_warning(tmp_path: Path, catalog: Catalog) -> None:
    report = check_knowledge(PROJECT_DIR / "knowledge", catalog, date(2028, 1, 1))
    assert any("more than 12 months ago" in p.message for p in report.warnings)
    assert report.errors == []


def test_command_exits_non_zero_on_errors(tmp_path: Path) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    write(knowledge / "cities" / "caserta.yml", "city: caserta\noffices: {questura: maybe}\n")
    command = [sys.executable, "-m", "bot", "knowledge", "check", "--directory", str(knowledge)]
    broken = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR)
    assert broken.returncode == 1
    assert "caserta.yml:2" in broken.stdout
    assert "language" in broken.stdout and "topics" in broken.stdout  # the coverage table
    ok = subprocess.run(command[:-2], capture_output=True, text=True, cwd=PROJECT_DIR)
    assert ok.returncode == 0, ok.stdout[-2000:]


CITY_HEAD = "city: caserta\naliases: [Caserta]\noffices:\n"


def caserta_with(tmp_path: Path, office: str) -> Path:
    """The project's knowledge with Caserta's file holding one office (the rest unknown)."""
    knowledge = copy_project_knowledge(tmp_path)
    write(knowledge / "cities" / "caserta.yml", CITY_HEAD + office)
    return knowledge


def test_an_address_or_phone_without_a_source_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    for fact in ('address: "Via Roma 1, Caserta"', 'phone: "0823 123456"', 'hours: "Mon-Fri 09:00-12:00"'):
        knowledge = caserta_with(tmp_path / fact[:5], f'  questura:\n    name: "Questura"\n    {fact}\n')
        errors = check_knowledge(knowledge, catalog, TODAY).errors
        assert any("caserta.yml" in str(p.path) and p.line == 4 and "no sources" in p.message for p in errors)


def test_a_source_read_long_ago_is_a_warning_and_the_share_of_sourced_facts_is_reported(
    tmp_path: Path, catalog: Catalog
) -> None:
    office = (
        '  questura:\n    name: "Questura di Caserta"\n    address: "Via Roma 1, Caserta"\n'
        '    sources:\n      - url: "https://questure.poliziadistato.it/it/Caserta"\n'
        "        read: 2024-11-20\n        gives: [name, address]\n"
    )
    report = check_knowledge(caserta_with(tmp_path, office), catalog, TODAY)
    assert [str(p) for p in report.errors] == []
    assert any("questura: source read 2024-11-20" in p.message for p in report.warnings)
    kb, _ = load_knowledge(PROJECT_DIR / "knowledge")
    kinds = len({office for facts in kb.facts.values() for office in facts.offices})
    assert report.city_sourced["caserta"] == 2 / (kinds * len(OFFICE_FACTS))  # name and address
    recent = office.replace("2024-11-20", "2026-06-01")
    fresh = check_knowledge(caserta_with(tmp_path / "fresh", recent), catalog, TODAY)
    assert not any("over 18 months" in p.message and "caserta" in str(p.path) for p in fresh.warnings)


def test_a_source_names_only_facts_an_office_has(tmp_path: Path, catalog: Catalog) -> None:
    office = (
        '  questura:\n    name: "Questura"\n    url: "https://questure.poliziadistato.it/it/Caserta"\n'
        '    sources:\n      - url: "https://questure.poliziadistato.it/it/Caserta"\n'
        "        read: 2026-11-20\n        gives: [name, opening_days]\n"
    )
    errors = check_knowledge(caserta_with(tmp_path, office), catalog, TODAY).errors
    assert any("caserta.yml" in str(p.path) and "gives" in p.message for p in errors)


# ready replies (knowledge/replies/) ------------------------------------------------------------------
def _break_reply(knowledge: Path, old: str, new: str) -> Path:
    path = knowledge / "replies" / "appointment.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_project_replies_are_complete(catalog: Catalog) -> None:
    kb, _ = load_knowledge(PROJECT_DIR / "knowledge")
    assert {"appointment", "documents_received", "still_working"} <= set(kb.replies)
    assert all(len(reply.text) == 12 for reply in kb.replies.values())


def test_a_reply_missing_a_language_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    path = knowledge / "replies" / "appointment.yml"
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("  ur:")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.path == path and "no text in ur" in p.message for p in errors)


def test_a_translation_that_drops_a_variable_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    """A person would get an appointment without their request number."""
    knowledge = copy_project_knowledge(tmp_path)
    path = _break_reply(knowledge, "Numri i kërkesës sate: {ticket}.", "Numri i kërkesës sate.")
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.path == path and "(sq)" in p.message and "ticket" in p.message for p in errors)


def test_an_unknown_variable_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    path = _break_reply(knowledge, "Numero della tua richiesta: {ticket}.", "Numero: {numero}.")
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.path == path and "unknown variable" in p.message and "numero" in p.message for p in errors)


def test_a_reply_named_unlike_its_file_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    knowledge = copy_project_knowledge(tmp_path)
    path = _break_reply(knowledge, "reply: appointment", "reply: appuntamento")
    errors = check_knowledge(knowledge, catalog, TODAY).errors
    assert any(p.path == path and "must match the file name" in p.message for p in errors)
