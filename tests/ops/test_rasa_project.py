"""Rasa's own checks on our project: data validation and the test stories, with the real model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from bot.core.settings import PROJECT_DIR, load_settings
from bot.ops.processes import RASA_BIN, ensure_model, rasa_environment


def rasa(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """A Rasa command as the project runs them: with the environment ``endpoints.yml`` names."""
    settings = load_settings(SPORTELLO_DATA_DIR=data_dir)
    env = {**os.environ, **rasa_environment(settings), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900
    )


def unexpanded_names() -> list[str]:
    """Files in the checkout named after an environment variable nobody expanded."""
    return [path.name for path in PROJECT_DIR.iterdir() if "${" in path.name]


def test_rasa_data_validate_is_clean(tmp_path: Path) -> None:
    result = rasa(
        "data",
        "validate",
        "--data",
        "nlu",
        "data",
        "--domain",
        "domain.yml",
        "--config",
        "config.yml",
        "--fail-on-warnings",
        data_dir=tmp_path,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_stories_for_urgent_topics_fallback_language_and_city(tmp_path: Path) -> None:
    model = ensure_model()
    out = tmp_path / "results"
    stories = ("--stories", "tests/stories", "--out", str(out))
    result = rasa("test", "core", "--model", str(model), *stories, data_dir=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    failed = (out / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed
    assert unexpanded_names() == []


def test_endpoints_leave_the_environment_variables_for_rasa_to_expand() -> None:
    """Rasa expands ``${VAR}`` only in plain (unquoted) YAML values; a quoted one once made a SQLite
    file named ``${SPORTELLO_TRACKER_DB}`` in the checkout. Unquoted, a missing variable stops Rasa."""
    node = yaml.compose((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    assert node is not None
    styles = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            stack += [value for _, value in current.value]
        elif isinstance(current, yaml.ScalarNode) and "${" in current.value:
            styles[current.value] = current.style
    assert styles and all(style is None for style in styles.values()), styles
