"""Read the NLU examples per language (``nlu/<lang>/*.yml``) for coverage counts and evaluations."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.core.yamlfile import read_yaml
from bot.ops.rasa_files import intent_names

Examples = dict[str, dict[str, list[str]]]  # language -> intent -> examples


def read_examples(nlu_dir: Path) -> Examples:
    examples: Examples = {}
    for language in LANGUAGES:
        per_intent: dict[str, list[str]] = defaultdict(list)
        for path in sorted((nlu_dir / language).glob("*.yml")):
            data = read_yaml(path).data or {}
            for block in data.get("nlu", []):
                if "intent" in block:
                    lines = str(block.get("examples", "")).splitlines()
                    per_intent[block["intent"]] += [
                        line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")
                    ]
        examples[language] = dict(per_intent)
    return examples


# ordinary questions for the benchmarks: answered from knowledge, no handoff, no urgency
BENCHMARK_TOPICS = (
    "tax_code",
    "residence_permit_renewal",
    "gp_registration",
    "school_enrollment",
    "italian_courses",
)


def ordinary_questions(nlu_dir: Path, per_topic: int = 8) -> list[str]:
    """Topic questions in Italian and English, alternating topics and languages (the benchmarks' load)."""
    examples = read_examples(nlu_dir)
    pool = [
        examples[lang][topic][i]
        for i in range(per_topic)
        for topic in BENCHMARK_TOPICS
        for lang in ("it", "en")
    ]
    return [text for text in pool if text]


def coverage_table(nlu_dir: Path, catalog: Catalog, minimum: int) -> tuple[str, bool]:
    """Unique examples per intent per language; ok is False when any cell is under ``minimum``."""
    examples = read_examples(nlu_dir)
    intents = intent_names(catalog)
    width = max(len(i) for i in intents) + 1
    lines = ["intent".ljust(width) + "".join(f"{code:>5}" for code in LANGUAGES)]
    ok = True
    for intent in intents:
        counts = [len(set(examples[code].get(intent, []))) for code in LANGUAGES]
        ok = ok and min(counts) >= minimum
        marks = "".join(f"{n:>4}{'!' if n < minimum else ' '}" for n in counts)
        lines.append(intent.ljust(width) + marks)
    totals = [sum(len(set(v)) for v in examples[code].values()) for code in LANGUAGES]
    lines.append("total".ljust(width) + "".join(f"{n:>5}" for n in totals))
    return "\n".join(lines), ok
