"""Shared fixtures. Builders live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import PROJECT_DIR, Catalog, load_catalog
from bot.dialogue.desk import Desk, build_desk


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_DIR)


@pytest.fixture(scope="session")
def desk() -> Desk:
    """The real topics, knowledge and translations of the project."""
    return build_desk(PROJECT_DIR)


@pytest.fixture()
def project_dir() -> Path:
    return PROJECT_DIR
