"""Read ``knowledge/`` into a ``KnowledgeBase``, reporting each problem with its file and line.

A file that fails to parse is reported and left out; when a previous good version of it is known
(the running assistant), that version stays in use so that a typo never blanks an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.errors import YamlFileError
from bot.core.yamlfile import read_yaml
from bot.knowledge.model import (
    CannedReply,
    CityKnowledge,
    LanguageTextFile,
    NoteTranslation,
    OfficeTypesFile,
    TopicFacts,
    TopicText,
)

Level = Literal["error", "warning"]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass
class LanguageText:
    """Everything one language says, merged from its files."""

    categories: dict[str, str] = field(default_factory=dict)
    topics: dict[str, TopicText] = field(default_factory=dict)
    office_types: dict[str, str] = field(default_factory=dict)
    office_notes: dict[tuple[str, str], NoteTranslation] = field(default_factory=dict)  # (city, kind)
    topic_files: dict[str, Path] = field(default_factory=dict)


@dataclass
class KnowledgeBase:
    office_types: dict[str, str] = field(default_factory=dict)
    facts: dict[str, TopicFacts] = field(default_factory=dict)
    texts: dict[str, LanguageText] = field(default_factory=dict)
    cities: dict[str, CityKnowledge] = field(default_factory=dict)
    replies: dict[str, CannedReply] = field(default_factory=dict)  # id -> a mediator's ready reply
    files: dict[str, Path] = field(default_factory=dict)


def parse_file(path: Path, model: type[ModelT]) -> tuple[ModelT | None, list[Problem]]:
    """Parse and validate one file; every schema error comes back with its line."""
    try:
        document = read_yaml(path)
    except YamlFileError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    if document.data is None:
        return None, [Problem(path, 1, "the file is empty")]
    try:
        return model.model_validate(document.data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = tuple(part for part in error["loc"] if not _is_union_branch(part))
            where = ".".join(str(part) for part in location) or "(top)"
            problems.append(Problem(path, document.line_of(location), f"{where}: {error['msg']}"))
        return None, problems


def _is_union_branch(part: object) -> bool:
    """Pydantic names the branch of a union in an error's location; staff never wrote those words."""
    return isinstance(part, str) and (part in {"Office", "str"} or part.startswith("function-"))


class KnowledgeReader:
    """Reads the knowledge folder, re-parsing only files whose size or mtime changed."""

    def __init__(self, directory: Path, keep_last_good: bool = False) -> None:
        self.directory = directory
        self.keep_last_good = keep_last_good
        self._cache: dict[Path, tuple[tuple[int, int], BaseModel | None, list[Problem]]] = {}

    def files(self) -> list[Path]:
        d = self.directory
        return sorted(
            [
                d / "office_types.yml",
                *(d / "topics").glob("*.yml"),
                *(d / "text").glob("*/*.yml"),
                *(d / "cities").glob("*.yml"),
                *(d / "replies").glob("*.yml"),
            ]
        )

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """Cheap fingerprint of the folder: names, sizes and mtimes."""
        result = []
        for path in self.files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            result.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(result)

    def _parse(self, path: Path, model: type[ModelT]) -> tuple[ModelT | None, list[Problem]]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None, [Problem(path, 1, "file not found")]
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]  # type: ignore[return-value]
        parsed, problems = parse_file(path, model)
        if parsed is None and self.keep_last_good and cached is not None and cached[1] is not None:
            parsed = cached[1]  # type: ignore[assignment]
            problems = [*problems, Problem(path, 1, "kept the previous version", "warning")]
        self._cache[path] = (key, parsed, problems)
        return parsed, problems

    def read(self) -> tuple[KnowledgeBase, list[Problem]]:
        kb = KnowledgeBase()
        problems: list[Problem] = []
        for path in self.files():
            problems += self._read_one(path, kb)
        return kb, problems

    def _read_one(self, path: Path, kb: KnowledgeBase) -> list[Problem]:
        kind = path.parent.name if path.parent != self.directory else "office_types"
        if kind == "office_types":
            types, problems = self._parse(path, OfficeTypesFile)
            if types is not None:
                kb.office_types = dict(types.office_types)
            return problems
        if kind == "topics":
            facts, problems = self._parse(path, TopicFacts)
            if facts is not None:
                problems += _named_after(path, "topic", facts.topic, kb.facts, facts, kb.files)
            return problems
        if kind == "cities":
            city, problems = self._parse(path, CityKnowledge)
            if city is not None:
                problems += _named_after(path, "city", city.city, kb.cities, city, kb.files)
            return problems
        if kind == "replies":
            reply, problems = self._parse(path, CannedReply)
            if reply is not None:
                problems += _named_after(path, "reply", reply.reply, kb.replies, reply, kb.files)
            return problems
        text, problems = self._parse(path, LanguageTextFile)
        if text is not None:
            problems += _merge_text(kb.texts.setdefault(path.parent.name, LanguageText()), text, path)
        return problems


def _named_after(
    path: Path, kind: str, name: str, into: dict[str, Any], value: Any, files: dict[str, Path]
) -> list[Problem]:
    """Topic and city files are named after their id; a mismatch is an error, not a silent rename."""
    if name != path.stem:
        return [Problem(path, 1, f"{kind} '{name}' must match the file name")]
    into[name] = value
    files[f"{path.parent.name}/{name}"] = path
    return []


def _merge_text(target: LanguageText, text: LanguageTextFile, path: Path) -> list[Problem]:
    problems = []
    for topic_id, topic_text in text.topics.items():
        if topic_id in target.topics:
            other = target.topic_files[topic_id]
            problems.append(Problem(path, 1, f"topic '{topic_id}' is also written in {other.name}"))
            continue
        target.topics[topic_id] = topic_text
        target.topic_files[topic_id] = path
    target.categories.update(text.categories)
    target.office_types.update(text.office_types)
    for city, notes in text.office_notes.items():
        target.office_notes.update({(city, kind): note for kind, note in notes.items()})
    return problems


def load_knowledge(directory: Path) -> tuple[KnowledgeBase, list[Problem]]:
    """One-shot read of a knowledge folder (the checker's view: nothing kept from before)."""
    return KnowledgeReader(directory).read()
