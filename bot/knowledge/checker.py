"""The staff's knowledge checker: what is broken, missing, unknown (todo) or out of date.

Run it with ``python -m bot knowledge check``. Errors make it exit non-zero; todos and stale facts are
reported as warnings, because a city may legitimately not know an office yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.knowledge.loader import KnowledgeBase, Problem, load_knowledge
from bot.knowledge.model import OFFICE_FACTS, Office, is_todo, reply_variables

STALE_AFTER = timedelta(days=365)
SOURCE_STALE_AFTER = timedelta(days=548)  # 18 months: offices move, hours change


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    city_todos: dict[str, list[str]] = field(default_factory=dict)
    city_sourced: dict[str, float] = field(default_factory=dict)  # share of office facts with a source

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


def check_knowledge(directory: Path, catalog: Catalog, today: date) -> Report:
    kb, problems = load_knowledge(directory)
    report = Report(problems=list(problems))
    report.problems += _check_facts(kb, catalog, directory, today)
    report.problems += _check_texts(kb, catalog, directory)
    report.problems += _check_cities(kb, catalog, directory, report)
    report.problems += _check_office_sources(kb, report, today)
    report.problems += _check_office_notes(kb, directory)
    report.problems += _check_replies(kb)
    report.coverage = _coverage(kb, catalog)
    return report


def _check_facts(kb: KnowledgeBase, catalog: Catalog, directory: Path, today: date) -> list[Problem]:
    problems = []
    for topic_id in catalog.topics:
        if topic_id not in kb.facts:
            path = directory / "topics" / f"{topic_id}.yml"
            if path.exists():
                continue  # already reported as unparseable
            problems.append(Problem(path, 1, f"topic '{topic_id}' of topics.yml has no knowledge entry"))
    for topic_id, facts in kb.facts.items():
        path = kb.files[f"topics/{topic_id}"]
        if topic_id not in catalog.topics:
            problems.append(Problem(path, 1, f"'{topic_id}' is not a topic of topics.yml"))
        problems += _unknown_office_types(path, facts.offices, kb)
        if today - facts.checked > STALE_AFTER:
            problems.append(
                Problem(path, 1, f"facts last checked {facts.checked}: more than 12 months ago", "warning")
            )
    return problems


def _check_texts(kb: KnowledgeBase, catalog: Catalog, directory: Path) -> list[Problem]:
    problems = []
    for language in LANGUAGES:
        text = kb.texts.get(language)
        folder = directory / "text" / language
        if text is None:
            problems.append(Problem(folder, 1, f"language '{language}' has no text at all"))
            continue
        for topic in catalog.topics.values():
            entry = text.topics.get(topic.id)
            if entry is None:
                problems.append(Problem(folder, 1, f"topic '{topic.id}' has no '{language}' text"))
            elif topic.urgent and entry.now is None:
                path = text.topic_files[topic.id]
                problems.append(Problem(path, 1, f"urgent topic '{topic.id}' needs 'now' ({language})"))
        for category in catalog.categories:
            if category not in text.categories:
                problems.append(Problem(folder, 1, f"category '{category}' has no '{language}' name"))
        for office_type in kb.office_types:
            if office_type not in text.office_types:
                problems.append(Problem(folder, 1, f"office type '{office_type}' has no '{language}' name"))
        for topic_id in text.topics:
            if topic_id not in catalog.topics:
                path = text.topic_files[topic_id]
                problems.append(Problem(path, 1, f"'{topic_id}' is not a topic of topics.yml"))
    return problems


def _check_cities(kb: KnowledgeBase, catalog: Catalog, directory: Path, report: Report) -> list[Problem]:
    problems = []
    needed = sorted({office for facts in kb.facts.values() for office in facts.offices})
    for city_id in catalog.cities:
        city = kb.cities.get(city_id)
        path = directory / "cities" / f"{city_id}.yml"
        if city is None:
            if not path.exists():
                problems.append(Problem(path, 1, f"city '{city_id}' has no knowledge file"))
            continue
        todos = []
        for office_type in needed:
            office = city.offices.get(office_type)
            if office is None:
                todos.append(f"{office_type} (missing)")
            elif isinstance(office, Office):
                todos += [f"{office_type}.{name}" for name in office.todos()]
            elif is_todo(office):
                todos.append(office_type)
        report.city_todos[city_id] = todos
        if todos:
            problems.append(Problem(path, 1, f"{len(todos)} todo: {', '.join(todos)}", "warning"))
    for city_id, city in kb.cities.items():
        path = kb.files[f"cities/{city_id}"]
        if city_id not in catalog.cities:
            problems.append(Problem(path, 1, f"'{city_id}' is not a city of cities.yml"))
        problems += _unknown_office_types(path, list(city.offices), kb)
    return problems


def _check_office_sources(kb: KnowledgeBase, report: Report, today: date) -> list[Problem]:
    """Per city, the share of office facts (of the kinds topics need) that a source backs; a warning for
    every source read more than 18 months ago."""
    needed = sorted({office for facts in kb.facts.values() for office in facts.offices})
    problems = []
    for city_id, city in kb.cities.items():
        path = kb.files[f"cities/{city_id}"]
        sourced = 0
        for office_type in needed:
            office = city.offices.get(office_type)
            if not isinstance(office, Office) or not office.sources:
                continue
            sourced += sum(1 for name in OFFICE_FACTS if not is_todo(getattr(office, name)))
            for source in office.sources:
                if today - source.read > SOURCE_STALE_AFTER:
                    message = f"{office_type}: source read {source.read}, over 18 months ago: {source.url}"
                    problems.append(Problem(path, 1, message, "warning"))
        report.city_sourced[city_id] = sourced / (len(needed) * len(OFFICE_FACTS)) if needed else 0.0
    return problems


NOTES_LANGUAGE = "en"  # the language of ``notes`` in the city files; text/<lang>/ holds the others


def _check_office_notes(kb: KnowledgeBase, directory: Path) -> list[Problem]:
    """Every office note in every language: a missing translation is an error (the person reading Urdu
    would miss "by appointment only"); one made from an older English note is a warning, and not shown."""
    problems = []
    notes = {
        (city_id, kind): office.notes
        for city_id, city in kb.cities.items()
        for kind, office in city.offices.items()
        if isinstance(office, Office) and office.notes
    }
    for language in LANGUAGES:
        if language == NOTES_LANGUAGE or language not in kb.texts:
            continue
        text = kb.texts[language]
        folder = directory / "text" / language
        for (city_id, kind), note in sorted(notes.items()):
            translation = text.office_notes.get((city_id, kind))
            if translation is None or translation.untranslated:
                message = f"office note {city_id}.{kind} has no '{language}' translation"
                problems.append(Problem(folder, 1, message))
            elif not translation.translates(note):
                message = f"office note {city_id}.{kind} ({language}) translates an older note: update it"
                problems.append(Problem(folder, 1, message, "warning"))
        for city_id, kind in sorted(set(text.office_notes) - set(notes)):
            message = f"'{language}' translates a note {city_id}.{kind} that no office has (never shown)"
            problems.append(Problem(folder, 1, message, "warning"))
    return problems


def _check_replies(kb: KnowledgeBase) -> list[Problem]:
    """Every canned reply in every language, each with the variables of the Italian: a translation that
    drops ``{ticket}`` would send a person a reply without their request number."""
    problems = []
    for reply_id, reply in sorted(kb.replies.items()):
        path = kb.files[f"replies/{reply_id}"]
        if reply.office not in kb.office_types:
            problems.append(Problem(path, 1, f"reply '{reply_id}': unknown office type '{reply.office}'"))
        missing = [language for language in LANGUAGES if language not in reply.text]
        if missing:
            problems.append(Problem(path, 1, f"reply '{reply_id}' has no text in {', '.join(missing)}"))
        expected = reply_variables(reply.text.get("it", ""))
        for language, text in reply.text.items():
            if language not in LANGUAGES:
                message = f"reply '{reply_id}': '{language}' is not a language of ours"
                problems.append(Problem(path, 1, message))
            elif reply_variables(text) != expected:
                found, want = sorted(reply_variables(text)), sorted(expected)
                message = f"reply '{reply_id}' ({language}) uses {found}, the Italian uses {want}"
                problems.append(Problem(path, 1, message))
    return problems


def _unknown_office_types(path: Path, office_types: list[str], kb: KnowledgeBase) -> list[Problem]:
    return [Problem(path, 1, f"unknown office type '{t}'") for t in office_types if t not in kb.office_types]


def _coverage(kb: KnowledgeBase, catalog: Catalog) -> dict[str, dict[str, int]]:
    coverage = {}
    for language in LANGUAGES:
        text = kb.texts.get(language)
        coverage[language] = {
            "topics": sum(1 for t in catalog.topics if text and t in text.topics),
            "categories": sum(1 for c in catalog.categories if text and c in text.categories),
            "office_types": sum(1 for o in kb.office_types if text and o in text.office_types),
        }
    return coverage


def format_report(report: Report, catalog: Catalog, office_type_count: int) -> str:
    lines = [str(p) for p in report.errors] + [str(p) for p in report.warnings]
    lines.append("")
    lines.append(f"{'language':<9}{'topics':>10}{'categories':>12}{'office types':>14}")
    for language, row in report.coverage.items():
        lines.append(
            f"{language:<9}{row['topics']:>6}/{len(catalog.topics):<3}"
            f"{row['categories']:>9}/{len(catalog.categories):<2}"
            f"{row['office_types']:>11}/{office_type_count:<2}"
        )
    lines.append("")
    lines.append(f"{'city':<10}{'todo':>6}{'sourced':>10}")
    for city_id, todos in sorted(report.city_todos.items()):
        share = report.city_sourced.get(city_id, 0.0)
        lines.append(f"{city_id:<10}{len(todos):>6}{share:>9.0%}")
    lines.append("")
    lines.append(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    return "\n".join(lines)
