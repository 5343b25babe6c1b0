"""Running a check script in Rasa's own environment (.venv-rasa), where Rasa's real classes live, and
reading the JSON it prints last."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bot.core.settings import PROJECT_DIR

RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: Path, *args: str, stdin: str | None = None) -> Any:
    """The script's last line of output, as JSON; a failing script fails the test with its error."""
    result = subprocess.run(
        [str(RASA_PYTHON), str(script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"PYTHONPATH": str(PROJECT_DIR), "RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
