"""The Rasa project files agree with topics.yml, and the training data covers every language."""

from __future__ import annotations

import yaml

from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR
from bot.ops.nlu_data import coverage_table, read_examples
from bot.ops.rasa_files import CONVERSATION, render_domain, render_rules


def test_domain_and_rules_are_generated_from_topics(catalog: Catalog) -> None:
    assert (PROJECT_DIR / "domain.yml").read_text() == render_domain(catalog), "run: make rasa-files"
    assert (PROJECT_DIR / "data" / "rules.yml").read_text() == render_rules(catalog)


def test_one_intent_per_topic_named_by_its_id(catalog: Catalog) -> None:
    intents = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())["intents"]
    assert set(catalog.topics) <= set(intents)
    assert set(intents) == set(catalog.topics) | set(CONVERSATION)


def test_at_least_twelve_examples_per_intent_per_language(catalog: Catalog) -> None:
    table, ok = coverage_table(PROJECT_DIR / "nlu", catalog, minimum=12)
    assert ok, table


def test_each_language_has_its_own_folder_and_no_stray_intents(catalog: Catalog) -> None:
    examples = read_examples(PROJECT_DIR / "nlu")
    allowed = set(catalog.topics) | set(CONVERSATION)
    for language in LANGUAGES:
        assert (PROJECT_DIR / "nlu" / language).is_dir()
        assert set(examples[language]) == allowed, language


def test_italian_office_words_appear_inside_other_languages() -> None:
    examples = read_examples(PROJECT_DIR / "nlu")
    for language in ("ar", "bn", "ur"):
        mixed = [
            t
            for texts in examples[language].values()
            for t in texts
            if any(w in t.casefold() for w in ("permesso", "codice fiscale", "isee"))
        ]
        assert len(mixed) >= 10, language
