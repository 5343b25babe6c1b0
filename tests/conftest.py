"""Shared fixtures: the project's own reference data, read once per test session. Builders live in
tests/helpers/, fakes in tests/fakes/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation.language import LanguagePolicy, make_policy
from bot.core.catalog import Catalog, load_catalog
from bot.core.i18n import Translations
from bot.core.languages import LanguageNames, load_language_names
from bot.core.settings import PROJECT_DIR, Settings, load_settings
from bot.dialogue.desk import Desk, build_desk


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The defaults, as a fresh checkout has them (no .env of a developer's)."""
    return load_settings(_env_file=None)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_DIR)


@pytest.fixture(scope="session")
def translations() -> Translations:
    return Translations(PROJECT_DIR / "locales")


@pytest.fixture(scope="session")
def language_names() -> LanguageNames:
    return load_language_names(PROJECT_DIR)


@pytest.fixture(scope="session")
def policy(language_names: LanguageNames) -> LanguagePolicy:
    """The measured language policy, as the gateway builds it."""
    return make_policy(language_names.italian_terms)


@pytest.fixture(scope="session")
def desk(settings: Settings) -> Desk:
    """The real topics, knowledge and translations of the project."""
    return build_desk(settings)


@pytest.fixture()
def project_dir() -> Path:
    return PROJECT_DIR
