"""Rasa's own checks on our project: data validation and the test stories, with the real model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.core.settings import PROJECT_DIR
from bot.ops.processes import RASA_BIN, ensure_model

ENV = {
    **os.environ,
    "PYTHONPATH": str(PROJECT_DIR),
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=PROJECT_DIR, env=ENV, capture_output=True, text=True, timeout=900
    )


def test_rasa_data_validate_is_clean() -> None:
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
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_stories_for_urgent_topics_fallback_language_and_city(tmp_path: Path) -> None:
    model = ensure_model()
    result = rasa("test", "core", "--model", str(model), "--stories", "tests/stories", "--out", str(tmp_path))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed
