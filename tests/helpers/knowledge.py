"""Builders of small knowledge folders for tests: a valid base that each test breaks in its own way."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.core.settings import PROJECT_DIR


def copy_project_knowledge(target: Path) -> Path:
    """A copy of the real knowledge folder that a test may edit freely."""
    destination = target / "knowledge"
    shutil.copytree(PROJECT_DIR / "knowledge", destination)
    return destination


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
