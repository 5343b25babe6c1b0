"""Staff's marked missed messages as Rasa training data, in the format of ``nlu/<lang>/*.yml``: one
file per language, ready to be read, corrected and merged into ``nlu/`` by whoever keeps the data."""

from __future__ import annotations

import re
from pathlib import Path

FILE_NAME = "review.yml"
# Rasa reads [words](entity) and [words]{...} inside an example as entity annotations: no brackets
_MARKUP = re.compile(r"[\[\]{}]")
_SPACE = re.compile(r"\s+")


def example_line(text: str) -> str:
    """One example, on one line, without entity markup."""
    return _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip()


def nlu_yaml(intents: dict[str, list[str]]) -> str:
    """``version: "3.1"`` and one ``- intent:`` block per intent, examples as a literal block."""
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(intents):
        examples = list(dict.fromkeys(e for e in map(example_line, intents[intent]) if e))
        if not examples:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"


def write_examples(examples: dict[str, dict[str, list[str]]], out: Path) -> list[Path]:
    """``out/<lang>/review.yml`` for every language with marked examples; the paths written."""
    written = []
    for language in sorted(examples):
        path = out / language / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nlu_yaml(examples[language]), encoding="utf-8")
        written.append(path)
    return written
