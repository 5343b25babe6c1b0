"""YAML files that remember where each value came from, so staff get "file:line" in error reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import YamlFileError

Location = tuple[str | int, ...]
# libyaml's parser where PyYAML was built with it (about ten times faster: the knowledge files are read at
# every start of the gateway and the action server, and again whenever staff change one)
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    """Parsed data plus the line (1-based) of every mapping key and list item."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int:
        """The line of the deepest known part of ``location`` (1 when nothing matches)."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return 1


def _record_lines(node: yaml.Node, location: Location, lines: dict[Location, int]) -> None:
    lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*location, str(key_node.value))
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*location, index)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines)


def _duplicate_keys(node: yaml.Node, path: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise YamlFileError(path, key_node.start_mark.line + 1, f"'{key}' appears twice")
            seen.add(key)
            _duplicate_keys(value_node, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, path)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for lines and duplicate keys) and the data built from it: one parse, not two."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file; raise ``YamlFileError`` with the line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(path, 1, f"cannot read the file: {exc}") from exc
    try:
        node, data = _parse(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise YamlFileError(path, line, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlFileError(path, 1, f"not valid YAML: {exc}") from exc
    document = YamlDocument(path=path, data=data)
    if node is not None:
        _duplicate_keys(node, path)
        _record_lines(node, (), document.lines)
    return document
