"""The development test set (tests/devset/) stays apart from the training data and has what it must."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR
from bot.core.text import clean_text
from bot.ops.nlu_data import read_examples

DEVSET = PROJECT_DIR / "tests" / "devset"
FRESH = DEVSET / "fresh"  # a second set, written 2026-12-07 (scripts/score_devset.py --fresh)
URGENT_KINDS = {"eviction", "emergency_shelter", "emergency_health", "danger"}
FORMS = {"narrative", "short", "runon", "typos", "office_words", "relative"}


def messages(language: str, folder: Path = DEVSET) -> list[dict[str, str]]:
    data = yaml.safe_load((folder / f"{language}.yml").read_text("utf-8"))
    assert data["language"] == language
    return list(data["messages"])


def normal(text: str) -> str:
    return " ".join(clean_text(text).casefold().split())


@pytest.mark.parametrize("folder", [DEVSET, FRESH], ids=["devset", "fresh"])
def test_no_devset_sentence_is_in_the_training_data(folder: Path) -> None:
    trained = {
        normal(t)
        for per_intent in read_examples(PROJECT_DIR / "nlu").values()
        for v in per_intent.values()
        for t in v
    }
    rows = [(lang, m["text"]) for lang in LANGUAGES for m in messages(lang, folder)]
    leaked = [(lang, text) for lang, text in rows if normal(text) in trained]
    assert leaked == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_the_hard_forms_urgent_and_out_of_scope(catalog: Catalog, language: str) -> None:
    rows = messages(language)
    valid = set(catalog.topics) | URGENT_KINDS | {"out_of_scope"}
    assert all(m["topic"] in valid for m in rows), [m for m in rows if m["topic"] not in valid]
    topical = [m for m in rows if m["set"] in ("topic", "greeting") and m["topic"] in catalog.topics]
    urgent = [m for m in rows if m["topic"] in URGENT_KINDS]
    outside = [m for m in rows if m["topic"] == "out_of_scope"]
    assert len(topical) >= 20 and len(urgent) >= 8 and len(outside) >= 8
    forms = Counter(m["form"] for m in rows if m["set"] == "topic")
    assert set(forms) >= FORMS, FORMS - set(forms)
    assert len({normal(m["text"]) for m in rows}) == len(rows), "no message twice"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_fresh_set_has_urgent_descriptions_near_misses_and_out_of_scope(
    catalog: Catalog, language: str
) -> None:
    """Per language: 4 indirect descriptions of each urgent kind, 18 ordinary questions that sound alarming
    (never on an urgent topic), 8 out of scope; none also in the first set."""
    rows = messages(language, FRESH)
    urgent = Counter(m["topic"] for m in rows if m["set"] == "urgent")
    near = [m for m in rows if m["set"] == "topic"]
    assert urgent == {kind: 4 for kind in URGENT_KINDS}
    assert len(near) == 18 and all(m["topic"] in catalog.topics for m in near)
    assert not any(catalog.topic(m["topic"]).urgent for m in near)
    assert sum(m["topic"] == "out_of_scope" for m in rows) == 8
    texts = {normal(m["text"]) for m in rows}
    assert len(texts) == len(rows) and not texts & {normal(m["text"]) for m in messages(language)}
